package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerfile reads the Dockerfile, which CI cannot build (no Docker daemon), for
// what issue 21 asks of it. TestAddrFileTrap5 runs its healthcheck setup.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	df := string(b)

	// Bases pinned by digest, through the ARGs the FROM lines use.
	args := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ARG (\w+)=(\S+)$`).FindAllStringSubmatch(df, -1) {
		args[m[1]] = m[2]
	}
	froms := regexp.MustCompile(`(?m)^FROM (.+)$`).FindAllStringSubmatch(df, -1)
	require.Len(t, froms, 2)
	for _, f := range froms {
		image := f[1]
		for name, val := range args {
			image = strings.ReplaceAll(image, "${"+name+"}", val)
		}
		assert.Regexp(t, `@sha256:[0-9a-f]{64}( |$)`, image, "base not pinned by digest: %s", f[1])
	}
	// The build stage runs on the builder's platform and cross-compiles.
	assert.Contains(t, froms[0][1], "--platform=$BUILDPLATFORM")
	assert.Contains(t, df, "GOOS=$TARGETOS GOARCH=$TARGETARCH")
	assert.Contains(t, df, "CGO_ENABLED=0")
	// BuildKit cache mounts for modules and the build cache.
	assert.Contains(t, df, "--mount=type=cache,target=/go/pkg/mod")
	assert.Contains(t, df, "--mount=type=cache,target=/root/.cache/go-build")
	for _, label := range []string{"title", "description", "source", "version", "revision", "created"} {
		assert.Contains(t, df, "org.opencontainers.image."+label+"=", "OCI label %s", label)
	}
	// Exec form: distroless has no shell.
	assert.Contains(t, df, `HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 CMD ["/vpay88-sandbox", "healthcheck"]`)

	env := dockerfileEnv(t)
	require.Equal(t, "0.0.0.0:8088", env["VPAY88_ADDR"])
	require.Equal(t, "/tmp/vpay88-sandbox.addr", env["VPAY88_ADDR_FILE"])
}

// dockerfileEnv returns the VPAY88_* variables the Dockerfile's ENV lines set.
func dockerfileEnv(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ENV ((?:.*\\\n)*.*)$`).FindAllStringSubmatch(string(b), -1) {
		for _, kv := range regexp.MustCompile(`(VPAY88_\w+)=(\S+)`).FindAllStringSubmatch(m[1], -1) {
			env[kv[1]] = kv[2]
		}
	}
	return env
}
