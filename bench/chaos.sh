#!/usr/bin/env bash
# bench/chaos.sh — the sandbox's rerunnable reliability suite (bench/chaos/).
#
# Builds the sandbox and the chaos program into a temporary folder, then runs real
# sandbox processes on temporary data files, on 127.0.0.1 only: kill -9 under load,
# callbacks across a crash, hostile requests, a hanging receiver, a journal flood,
# damaged and locked data files, a soak, and issue 18's bounds. Prints one table and
# writes a JSON copy to bench/out/chaos.json. Each part has a time budget; the whole run
# is bounded by the selected parts' budgets added up plus 30 s (`chaos -print-limit`
# prints it); every process and file it starts is removed at the end, also on Ctrl-C.
#
#   bench/chaos.sh                    # everything
#   bench/chaos.sh -quick             # shorter
#   bench/chaos.sh -only crash,journal
#   CHAOS_REV=HEAD bench/chaos.sh -quick   # the last commit instead of the working tree
#
# Parts: crash, callbacks, badinput, hang, journal, damaged, soak, boundsfaults, boundsproxy, clock,
# ephemeral, merchants, boundslists, boundsmisc. Exit status 0 when
# every goal is met, 1 when one is missed, 2 on a usage or build error.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
command -v "$GO" >/dev/null || GO=/usr/local/go/bin/go
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vpay88-chaos.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# CHAOS_REV=HEAD (or any commit) tests that commit's sandbox instead of the working
# tree, from `git archive` (the repository is only read).
SRC=.
LABEL=()
if [ -n "${CHAOS_REV:-}" ]; then
	mkdir -p "$TMP/src"
	git archive "$CHAOS_REV" | tar -x -C "$TMP/src" || { echo "chaos.sh: cannot read $CHAOS_REV" >&2; exit 2; }
	SRC=$TMP/src
	LABEL=(-commit "$(git rev-parse --short "$CHAOS_REV") (CHAOS_REV=$CHAOS_REV, committed code only)")
fi
echo "== building${CHAOS_REV:+ $CHAOS_REV}" >&2
if ! (cd "$SRC" && "$GO" build -o "$TMP/vpay88-sandbox" .) || ! "$GO" build -o "$TMP/chaos" ./bench/chaos; then
	echo "chaos.sh: build failed" >&2
	exit 2
fi
mkdir -p bench/out
# The program bounds itself (the selected parts' budgets plus 30 s, as it prints with
# -print-limit); timeout, 40 s later, is the last guard. A usage error stops here.
limit=$("$TMP/chaos" -bin "$TMP/vpay88-sandbox" -print-limit "$@") || exit 2
# It runs in the background so that Ctrl-C or SIGTERM reaches this script at once and
# is passed on: the program then stops every sandbox it started and removes its files.
timeout -k 5 $((limit + 40)) "$TMP/chaos" -bin "$TMP/vpay88-sandbox" -tmp "$TMP" -repo "$SRC" -json bench/out/chaos.json "${LABEL[@]}" "$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null' INT TERM HUP
while :; do
	wait "$pid"
	rc=$?
	kill -0 "$pid" 2>/dev/null || break
done
wait "$pid" 2>/dev/null && rc=0 || rc=$?
exit "$rc"
