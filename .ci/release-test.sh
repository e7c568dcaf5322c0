#!/usr/bin/env bash
# release-test.sh: what a release gives people, built and tried end to end on this
# machine (issue 21). Called by .ci/run; runs alone too (needs Go, Node 18+ and npm).
#
#  1. actionlint (pinned) on every workflow: .github/workflows and docs/ci.
#  2. GoReleaser (pinned, .ci/goreleaser): `check`, then a --snapshot release into
#     dist/: six archives, checksums.txt, each archive's binary stamped.
#  3. install.sh against that snapshot served from 127.0.0.1, as a non-root user:
#     installs and runs; a tampered archive, an unknown version refused.
#  4. The npm packages: laid out from dist/ (npm/build.mjs), `npm pack`ed, installed
#     from the tarballs into a scratch project with no registry, `node --test`.
#  5. The Playwright recipe of docs/ci/playwright, in Debian's chromium.
#  6. `go install …@vX` reports vX: the module served as vX from a local proxy folder.
# Each step fails the run with a line saying which.
set -euo pipefail
# No grep -q after a pipe: under pipefail the writer killed by SIGPIPE when grep stops
# early fails the whole check (seen with unzip -l).
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
ACTIONLINT_VERSION=v1.7.12

work=$(mktemp -d)
chmod 755 "$work" # the install test runs as nobody below it
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== release-test: %s\n' "$*"; }
fail() { printf 'release-test: FAIL: %s\n' "$*" >&2; exit 1; }
t0=$SECONDS
missing=()
for tool in go git node npm tar zip unzip sha256sum setpriv readelf; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || fail "not installed: ${missing[*]}"

step "actionlint $ACTIONLINT_VERSION on .github/workflows and docs/ci"
GOBIN="$work/bin" GOFLAGS='' go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
mapfile -t workflows < <(git ls-files '.github/workflows/*.yml' 'docs/ci/*.yml' 'docs/ci/**/*.yml' | grep -Ev 'docker-compose|gitlab' || true)
for w in .github/workflows/release.yml docs/ci/github-actions.yml; do
  [[ " ${workflows[*]} " == *" $w "* ]] || fail "$w is not among the workflows found: ${workflows[*]}"
done
"$work/bin/actionlint" -no-color "${workflows[@]}" || fail "actionlint: ${workflows[*]}"
echo "actionlint: ${#workflows[@]} workflows clean: ${workflows[*]}"
if command -v shellcheck >/dev/null; then
  shellcheck install.sh .ci/release-test.sh .ci/goreleaser || fail "shellcheck"
  echo "shellcheck: install.sh and the release scripts clean"
elif [ "${CI:-}" = true ]; then
  fail "shellcheck is not installed (.ci/run installs it: apt-get install shellcheck)"
else
  echo "SKIPPED shellcheck: not installed (apt-get install shellcheck); CI requires it"
fi

step "goreleaser check and a --snapshot release ($(grep -o 'GORELEASER_VERSION=.*' .ci/goreleaser))"
export NO_COLOR=1 # plain GoReleaser logs in CI
.ci/goreleaser check || fail "goreleaser check"
.ci/goreleaser release --snapshot --clean --parallelism 2 || fail "goreleaser release --snapshot"
version=$(node -p 'require("./dist/metadata.json").version')
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+-snapshot$ ]] || fail "snapshot version '$version'"
archives=()
for os in linux darwin windows; do
  for arch in amd64 arm64; do
    ext=tar.gz; [ $os = windows ] && ext=zip
    a="vpay88-sandbox_${version}_${os}_${arch}.$ext"
    [ -f "dist/$a" ] || fail "dist/$a missing"
    grep -q "  $a\$" dist/checksums.txt || fail "checksums.txt has no line for $a"
    archives+=("$a")
  done
done
[ "$(wc -l <dist/checksums.txt)" -eq 6 ] || fail "checksums.txt should list the 6 archives: $(cat dist/checksums.txt)"
(cd dist && sha256sum --quiet -c checksums.txt) || fail "dist/checksums.txt does not match the archives"
tar -tzf "dist/vpay88-sandbox_${version}_linux_amd64.tar.gz" | grep -x vpay88-sandbox >/dev/null || fail "linux archive has no vpay88-sandbox"
unzip -l "dist/vpay88-sandbox_${version}_windows_arm64.zip" | grep ' vpay88-sandbox.exe$' >/dev/null || fail "windows archive has no vpay88-sandbox.exe"
mkdir "$work/x" && tar -xzf "dist/vpay88-sandbox_${version}_linux_amd64.tar.gz" -C "$work/x"
[ "$("$work/x/vpay88-sandbox" version)" = "vpay88-sandbox v$version" ] || fail "the archive's binary says '$("$work/x/vpay88-sandbox" version)', not v$version"
if readelf -l "$work/x/vpay88-sandbox" | grep INTERP >/dev/null; then fail "the linux binary is not static (it names an ELF interpreter)"; fi
echo "dist: ${#archives[@]} archives, checksums verified, binary says v$version"

step "install.sh from a release served on 127.0.0.1, as a user without root"
rel="$work/releases"
mkdir -p "$rel/v$version"
cp dist/checksums.txt "${archives[@]/#/dist/}" "$rel/v$version/"
node .ci/serve-dir.mjs "$rel" "$work/port" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || fail "the release server did not start: $(cat "$work/serve.log")"
base="http://127.0.0.1:$(cat "$work/port")"
# nobody (65534), with a home of its own: the default ~/.local/bin, no sudo anywhere.
home="$work/home"
mkdir -p "$home" && chown 65534:65534 "$home"
as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME="$home" "$@"; }
as_user sh install.sh -v "v$version" -d "$base" || fail "install.sh as nobody"
[ "$(as_user "$home/.local/bin/vpay88-sandbox" version)" = "vpay88-sandbox v$version" ] || fail "installed binary's version"
[ "$(stat -c %U "$home/.local/bin/vpay88-sandbox")" = nobody ] || fail "the binary should belong to the user who installed it"
# The environment instead of flags, another directory, a version without its v, from a pipe.
mkdir -p "$work/bin2" && chown 65534:65534 "$work/bin2"
as_user env VPAY88_VERSION="$version" VPAY88_DOWNLOAD_URL="$base" VPAY88_INSTALL_DIR="$work/bin2" sh <install.sh || fail "install.sh from stdin with VPAY88_*"
"$work/bin2/vpay88-sandbox" version | grep -qx "vpay88-sandbox v$version" || fail "installed to VPAY88_INSTALL_DIR"
# The pinned default: the version written in the script is the one it asks for.
pinned=$(sed -n 's/^default_version="\(v[0-9.]*\)"$/\1/p' install.sh)
[ -n "$pinned" ] || fail "install.sh has no pinned default_version"
if as_user sh install.sh -d "$base" -b "$work/bin3" 2>"$work/err"; then fail "install.sh installed $pinned, which the snapshot server does not have"; fi
grep -q "/$pinned/checksums.txt" "$work/err" || fail "install.sh without -v did not ask for its pinned $pinned: $(cat "$work/err")"
# A tampered archive is refused, and nothing is installed.
mkdir -p "$rel/v9.9.9"
sed "s/_${version}_/_9.9.9_/" "$rel/v$version/checksums.txt" >"$rel/v9.9.9/checksums.txt"
cp "$rel/v$version/vpay88-sandbox_${version}_linux_amd64.tar.gz" "$rel/v9.9.9/vpay88-sandbox_9.9.9_linux_amd64.tar.gz"
printf 'x' >>"$rel/v9.9.9/vpay88-sandbox_9.9.9_linux_amd64.tar.gz"
if as_user sh install.sh -v v9.9.9 -d "$base" -b "$work/bin4" 2>"$work/err"; then fail "install.sh installed a tampered archive"; fi
grep -q "checksum mismatch for vpay88-sandbox_9.9.9_linux_amd64.tar.gz" "$work/err" || fail "tampered archive: $(cat "$work/err")"
[ ! -e "$work/bin4/vpay88-sandbox" ] || fail "a tampered archive left a binary"
if as_user sh install.sh -v v0.0.0-nope -d "$base" -b "$work/bin4" 2>"$work/err"; then fail "install.sh installed a version that does not exist"; fi
grep -q "could not download $base/v0.0.0-nope/checksums.txt" "$work/err" || fail "unknown version: $(cat "$work/err")"
echo "install.sh: installed v$version as nobody to ~/.local/bin and to VPAY88_INSTALL_DIR; refused a tampered archive and an unknown version"

step "npm packages: build, pack, install from the tarballs offline, node --test"
node npm/build.mjs --dist dist --out "$work/npm" || fail "npm/build.mjs"
mkdir "$work/tgz"
for d in "$work/npm"/*/; do
  (cd "$d" && npm pack --silent --pack-destination "$work/tgz" >/dev/null) || fail "npm pack $d"
done
ls "$work/tgz"
[ "$(find "$work/tgz" -name '*.tgz' | wc -l)" -eq 7 ] || fail "expected 7 tarballs (the package and 6 platforms)"
plat="$(node -p 'process.platform + "-" + process.arch')"
proj="$work/shop"
mkdir "$proj"
(cd "$proj" && npm init -y >/dev/null)
# No registry at all: an unreachable one, and --offline. The other platforms'
# optional packages cannot be had, as on a machine of another platform, and are
# skipped; this platform's comes from its tarball.
(cd "$proj" && npm install --offline --no-audit --no-fund --registry http://127.0.0.1:9/ \
  "$work/tgz/vpay88-sandbox-$version.tgz" "$work/tgz/vpay88-sandbox-$plat-$version.tgz") || fail "npm install from the tarballs"
cp npm/test/sandbox.test.mjs "$proj/"
(cd "$proj" && EXPECT_VERSION=$version node --test --test-reporter=spec sandbox.test.mjs) || fail "node --test in the scratch project"

step "the Playwright recipe (docs/ci/playwright): a shop's browser test in Debian's chromium"
chromium=${CHROMIUM_PATH:-$(command -v chromium || true)}
[ -n "$chromium" ] || fail "no chromium: the Playwright recipe runs in Debian's (apt-get install chromium)"
cp -r docs/ci/playwright "$work/pw"
# Its package.json pins playwright-core and vpay88-sandbox; the sandbox comes from this
# run's tarballs, as the release would give it, playwright-core from the registry at
# the pinned version. No browser download: Debian's chromium.
pw=$(node -p 'require("./docs/ci/playwright/package.json").devDependencies["playwright-core"]')
(cd "$work/pw" && npm install --no-audit --no-fund "playwright-core@$pw" \
  "$work/tgz/vpay88-sandbox-$version.tgz" "$work/tgz/vpay88-sandbox-$plat-$version.tgz") || fail "npm install in the Playwright recipe"
(cd "$work/pw" && CHROMIUM_PATH=$chromium npm test) || fail "the Playwright recipe's test"

step "go install github.com/vpay88/vpay88-sandbox@v$version reports v$version"
# The module as the proxy would serve it at a tag: a folder proxy in front of the
# usual one (which serves the dependencies), checksum database off for this module only.
proxy="$work/goproxy/github.com/vpay88/vpay88-sandbox/@v"
mkdir -p "$proxy"
git archive --format=tar --prefix="github.com/vpay88/vpay88-sandbox@v$version/" HEAD | tar -x -C "$work"
(cd "$work" && zip -qr "$proxy/v$version.zip" "github.com/vpay88/vpay88-sandbox@v$version")
cp go.mod "$proxy/v$version.mod"
printf '{"Version":"v%s"}\n' "$version" >"$proxy/v$version.info"
printf 'v%s\n' "$version" >"$proxy/list"
(cd "$work" && GOBIN="$work/gi" GOFLAGS=-mod=mod GONOSUMDB=github.com/vpay88/vpay88-sandbox \
  GOPROXY="file://$work/goproxy,$(go env GOPROXY)" go install "github.com/vpay88/vpay88-sandbox@v$version") || fail "go install @v$version"
[ "$("$work/gi/vpay88-sandbox" version)" = "vpay88-sandbox v$version" ] || fail "go install @v$version says '$("$work/gi/vpay88-sandbox" version)'"
echo "go install …@v$version: the binary says v$version"

printf '\nrelease-test: all passed in %d s\n' $((SECONDS - t0))
