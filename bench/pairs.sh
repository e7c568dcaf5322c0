#!/usr/bin/env bash
# bench/pairs.sh: the durable-throughput goal alone, measured in alternating pairs.
#
# Starts the sandbox as shipped (durability machine, --log-level info) and the naive
# durable baseline (bench/baseline -mode update), then runs wrk against one and then
# the other, ROUNDS times, so that a slow minute of a shared VM hits both sides of each
# pair. Prints req/s of each and their ratio (the goal: >= 3x at 16 connections).
#
#   bench/pairs.sh            # 3 pairs of 3 s at 16 connections
#   CONNS=64 ROUNDS=5 bench/pairs.sh
#
# Needs wrk, curl and Go; all traffic stays on 127.0.0.1; both servers are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-16}
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-3s}
OUT=bench/out/pairs
rm -rf "$OUT" && mkdir -p "$OUT"
go build -o "$OUT/vpay88-sandbox" .
go build -o "$OUT/baseline" ./bench/baseline
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

# addr_of LOG: the first 127.0.0.1:PORT a server printed, as a URL.
addr_of() {
	for _ in $(seq 100); do
		a=$(grep -o '127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null | head -1 || true)
		[ -n "$a" ] && { echo "http://$a"; return; }
		sleep 0.05
	done
	echo "pairs.sh: no address in $1" >&2
	exit 1
}

"$OUT/vpay88-sandbox" --addr 127.0.0.1:0 --data "$OUT/sandbox.db" --log-level info >/dev/null 2>"$OUT/sandbox.log" &
PIDS+=($!)
"$OUT/baseline" -mode update -addr 127.0.0.1:0 -data "$OUT/naive.db" >"$OUT/baseline.log" 2>&1 &
PIDS+=($!)
SB=$(addr_of "$OUT/sandbox.log")
NAIVE=$(addr_of "$OUT/baseline.log")
TOKEN=$(curl -fs -F username=vpay88-test -F api_key=EPSOWM0eewwrwer0OfUo "$SB/merchant/auth" |
	sed -n 's/.*"auth":"\([A-Za-z0-9]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "pairs.sh: no auth token" >&2; exit 1; }

rps() { timeout 60 wrk -t2 -c"$CONNS" -d"$DUR" --timeout 5s -s bench/generate_orders.lua "$@" | sed -n 's/^BENCH .*rps=\([0-9.]*\).*/\1/p'; }
for r in $(seq "$ROUNDS"); do
	a=$(rps "$SB" -- "$TOKEN" "pair-$r-$$")
	b=$(rps "$NAIVE/merchant/generate_orders" -- x "naive-$r-$$")
	awk -v a="$a" -v b="$b" -v c="$CONNS" 'BEGIN { printf "PAIR conns=%s sandbox=%.0f naive=%.0f ratio=%.2f\n", c, a, b, a / b }'
done
