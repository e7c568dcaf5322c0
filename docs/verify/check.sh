#!/usr/bin/env bash
# Runs every callback verification snippet in this folder (PHP, Node.js, Python, Go)
# as the callback receiver of a real sandbox (verify_test.go) and reports which ran:
# a snippet whose language is not installed is SKIPped with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -count=1 -v -run TestSnippets ./docs/verify/ >"$out" 2>&1
rc=$?
grep -E 'receiver, |--- (PASS|FAIL|SKIP)|snippet not run|^(ok|FAIL)' "$out" | sed -E 's/^ +//'
[ $rc -eq 0 ] || cat "$out"
exit $rc
