#!/bin/sh
# install.sh: installs the vpay88-sandbox binary from a GitHub release, for any CI
# or laptop with sh, curl or wget, tar (unzip on Windows) and a SHA-256 tool.
#
#   curl -fsSL https://github.com/vpay88/vpay88-sandbox/releases/download/v0.1.0/install.sh | sh
#   sh install.sh -b /usr/local/bin -v v0.1.0
#
# No root needed: the binary goes to ~/.local/bin unless told otherwise.
#
#   -b DIR       where to put the binary    (VPAY88_INSTALL_DIR; default ~/.local/bin)
#   -v VERSION   which release, e.g. v0.1.0  (VPAY88_VERSION; default: the release this
#                script came with, pinned below)
#   -d URL       where the releases are      (VPAY88_DOWNLOAD_URL; default GitHub's
#                https://github.com/vpay88/vpay88-sandbox/releases/download): a mirror
#                or a local server serving VERSION/ARCHIVE and VERSION/checksums.txt
#
# Every archive is checked against the release's checksums.txt (SHA-256) before it is
# unpacked; a mismatch, a missing line or no SHA-256 tool stops the install.
set -eu

# The release workflow writes the tag here in the copy it attaches to a release, so
# the install.sh of v1.2.3 installs v1.2.3 unless told otherwise.
default_version="v0.1.0"

version=${VPAY88_VERSION:-$default_version}
bindir=${VPAY88_INSTALL_DIR:-}
base=${VPAY88_DOWNLOAD_URL:-https://github.com/vpay88/vpay88-sandbox/releases/download}

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	-b) [ $# -ge 2 ] || die "-b needs a directory"; bindir=$2; shift 2 ;;
	-v) [ $# -ge 2 ] || die "-v needs a version such as v0.1.0"; version=$2; shift 2 ;;
	-d) [ $# -ge 2 ] || die "-d needs a URL"; base=$2; shift 2 ;;
	-h | --help) sed -n '2,18s/^# \{0,1\}//p' "$0" 2>/dev/null || true; exit 0 ;;
	*) die "unknown argument '$1' (use -b DIR, -v VERSION, -d URL)" ;;
	esac
done
if [ -z "$bindir" ]; then
	[ -n "${HOME:-}" ] || die "HOME is not set: give the directory with -b DIR"
	bindir=$HOME/.local/bin
fi
case $version in
v[0-9]*) ;;
[0-9]*) version=v$version ;;
*) die "version '$version' is not a release tag such as v0.1.0" ;;
esac

# The archive names of .goreleaser.yaml: vpay88-sandbox_1.2.3_linux_amd64.tar.gz.
os=$(uname -s)
case $os in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN* | Windows_NT) os=windows ;;
*) die "no release build for the operating system '$os' (linux, darwin, windows): build from source with Go 1.26: go install github.com/vpay88/vpay88-sandbox@$version" ;;
esac
arch=$(uname -m)
case $arch in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64 | armv8*) arch=arm64 ;;
*) die "no release build for the architecture '$arch' (amd64, arm64): build from source with Go 1.26: go install github.com/vpay88/vpay88-sandbox@$version" ;;
esac
# A shell under Rosetta says x86_64 on an Apple silicon Mac: take the native build.
if [ "$os" = darwin ] && [ "$arch" = amd64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
	arch=arm64
fi
ext=tar.gz
exe=vpay88-sandbox
if [ "$os" = windows ]; then
	ext=zip
	exe=vpay88-sandbox.exe
fi
archive="vpay88-sandbox_${version#v}_${os}_${arch}.$ext"
url="${base%/}/$version"

fetch() { # fetch URL FILE
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 3 -o "$2" "$1" || die "could not download $1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1" || die "could not download $1"
	else
		die "neither curl nor wget is installed"
	fi
}

sha256() { # sha256 FILE: its hex digest
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d ' ' -f 1
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 "$1" | sed 's/.*= *//'
	else
		die "no SHA-256 tool (sha256sum, shasum or openssl): cannot verify the download"
	fi
}

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t vpay88-sandbox)
trap 'rm -rf "$tmp"' EXIT INT TERM

say "downloading vpay88-sandbox $version for $os/$arch from $url"
fetch "$url/checksums.txt" "$tmp/checksums.txt"
fetch "$url/$archive" "$tmp/$archive"

want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/checksums.txt")
[ -n "$want" ] || die "checksums.txt of $version has no line for $archive"
got=$(sha256 "$tmp/$archive")
[ "$got" = "$want" ] || die "checksum mismatch for $archive: expected $want, got $got; not installed"

mkdir -p "$tmp/x"
if [ "$ext" = zip ]; then
	command -v unzip >/dev/null 2>&1 || die "unzip is needed for the Windows archive"
	unzip -q "$tmp/$archive" "$exe" -d "$tmp/x"
else
	tar -xzf "$tmp/$archive" -C "$tmp/x" "$exe"
fi

mkdir -p "$bindir" || die "cannot create $bindir: choose another directory with -b DIR"
# Into place by rename from the same directory: a running copy is never half-written.
cp "$tmp/x/$exe" "$bindir/.$exe.new" || die "cannot write to $bindir: choose another directory with -b DIR"
chmod 755 "$bindir/.$exe.new"
mv -f "$bindir/.$exe.new" "$bindir/$exe"

say "installed $("$bindir/$exe" version 2>/dev/null || echo "vpay88-sandbox $version") to $bindir/$exe"
case ":${PATH:-}:" in
*":$bindir:"*) ;;
*) say "$bindir is not on PATH: add it (export PATH=\"$bindir:\$PATH\") or run $bindir/$exe" ;;
esac
