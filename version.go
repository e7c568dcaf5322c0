package main

import "runtime/debug"

// buildVersion is the version the binary reports: the one stamped at build time
// (-ldflags "-X main.version=v1.2.3": the release archives, the image), else the
// module version the go command recorded (`go install
// github.com/vpay88/vpay88-sandbox@v1.2.3` records v1.2.3; a build in a git checkout
// records a pseudo-version such as v0.0.0-20261206215301-1e0f546e1c2a+dirty), else
// "dev" (a build with -buildvcs=false, or outside any module version).
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return versionOf(version, info)
}

// versionOf is buildVersion's rule over a given stamp and build info, for tests.
func versionOf(stamped string, info *debug.BuildInfo) string {
	if stamped != "dev" && stamped != "" {
		return stamped
	}
	if info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
