#!/usr/bin/env bash
# What an open dashboard costs the vendor API: generate_orders at 16 connections for
# 15 s, alternately with and without a stand-in dashboard tab (bench/dashboard) open on
# the orders view, three times each, on a sandbox already holding PRELOAD orders.
# Loopback only; every process it starts is stopped on exit. About 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PRELOAD=${PRELOAD:-50000}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/sandbox" . && go build -o "$tmp/load" ./bench/load && go build -o "$tmp/dashboard" ./bench/dashboard
port=18931
"$tmp/sandbox" --addr 127.0.0.1:$port --data "$tmp/s.db" --log-level warn &
url=http://127.0.0.1:$port
for _ in $(seq 100); do curl -fs $url/healthz >/dev/null && break; sleep 0.05; done
tok() { curl -fs -F username=vpay88-test -F api_key=EPSOWM0eewwrwer0OfUo $url/merchant/auth | sed 's/.*"auth":"\([^"]*\)".*/\1/'; }
"$tmp/load" -url $url -token "$(tok)" -n "$PRELOAD" -c 16 -prefix pre -timeout 120s >/dev/null
for round in 1 2 3; do
  for mode in without with; do
    dash=""
    if [ $mode = with ]; then "$tmp/dashboard" -url $url -for 16s > "$tmp/dash.txt" & dash=$!; fi
    line=$("$tmp/load" -url $url -token "$(tok)" -n 10000000 -c 16 -prefix "r$round$mode" -timeout 15s || true)
    if [ -n "$dash" ]; then wait "$dash" || true; line="$line; $(cat "$tmp/dash.txt")"; fi
    echo "round $round, dashboard $mode: $line"
  done
done
