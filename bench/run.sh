#!/usr/bin/env bash
# bench/run.sh — the sandbox's rerunnable benchmark (issue 2).
#
# In one run, side by side, on this machine:
#   * POST /merchant/generate_orders on the sandbox at 1, 16 and 64 connections;
#   * the same requests on two baselines built from bench/baseline: a bare Echo handler
#     that parses the same multipart form (the HTTP ceiling) and the same plus one
#     bbolt db.Update per request (the naive durable design);
#   * /merchant/check_status of an existing order and /wallet/withdraw_bank_list;
#   * process start to the first /healthz 200 (bench/startup, median of 20 starts);
#   * RSS when idle and after 100k orders (bench/load).
# It prints a table and writes it to bench/out/results.md. All traffic stays on
# 127.0.0.1; every process it starts is stopped on exit. Takes 3-4 minutes, never more than 5.
#
# Knobs (environment): BENCH_DURATION (wrk run, default 5s), BENCH_CONNS ("1 16 64"),
# BENCH_THREADS (wrk threads, default 2), BENCH_ROUNDS (repeats of each wrk run, best
# kept, default 2), BENCH_LOAD_N (orders for the RSS step, 100000), BENCH_STARTS (starts
# per startup series, 20).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=bench/out
DUR=${BENCH_DURATION:-5s}
CONNS=${BENCH_CONNS:-"1 16 64"}
THREADS=${BENCH_THREADS:-2}
LOAD_N=${BENCH_LOAD_N:-100000}
STARTS=${BENCH_STARTS:-20}
ROUNDS=${BENCH_ROUNDS:-2}
USER_NAME=vpay88-test
API_KEY=EPSOWM0eewwrwer0OfUo
RUN_ID=$(date +%s)

for tool in wrk curl go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (apt-get install -y wrk curl)" >&2; exit 1; }
done
mkdir -p "$OUT"

# --- processes: every one we start is recorded and stopped on exit -------------------
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	# The data files reach a few hundred MB; every run starts from fresh ones anyway.
	rm -f "$OUT"/*.db
	rm -rf "$OUT/startup.d"
	# The sandbox logs each vendor request at info (its default level, kept so the
	# figures include that cost): keep the ends of the logs, not a million lines.
	local f
	for f in "$OUT/sandbox.log" "$OUT/rss.log"; do
		[ -f "$f" ] || continue
		{ head -n 20 "$f"; echo "[… $(wc -l <"$f") lines in all …]"; tail -n 20 "$f"; } >"$f.short" && mv "$f.short" "$f"
	done
}
trap cleanup EXIT

# stop PID: SIGTERM, then wait (the sandbox shuts down gracefully within a second).
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# wait_healthy URL: poll /healthz for at most 5 s.
wait_healthy() {
	for _ in $(seq 100); do
		curl -fs -o /dev/null "$1/healthz" && return 0
		sleep 0.05
	done
	echo "run.sh: $1/healthz never answered" >&2
	return 1
}

# start_sandbox DATA LOG: starts the sandbox on a free port; sets SB_PID and SB_URL.
start_sandbox() {
	rm -f "$1" "$2"
	"$OUT/vpay88-sandbox" --addr 127.0.0.1:0 --data "$1" --log-level info >/dev/null 2>"$2" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	SB_URL=""
	for _ in $(seq 100); do
		SB_URL=$(sed -n 's/.*listening" url=\(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$2" | head -1)
		[ -n "$SB_URL" ] && break
		sleep 0.05
	done
	[ -n "$SB_URL" ] || { echo "run.sh: sandbox did not start:" >&2; cat "$2" >&2; exit 1; }
	wait_healthy "$SB_URL"
}

# start_baseline MODE DATA: sets BL_PID and BL_URL.
start_baseline() {
	rm -f "$2" "$OUT/baseline-$1.addr"
	"$OUT/baseline" -mode "$1" -addr 127.0.0.1:0 -data "$2" >"$OUT/baseline-$1.addr" 2>"$OUT/baseline-$1.log" &
	BL_PID=$!
	PIDS+=("$BL_PID")
	BL_URL=""
	for _ in $(seq 100); do
		BL_URL=$(head -1 "$OUT/baseline-$1.addr" 2>/dev/null || true)
		[ -n "$BL_URL" ] && break
		sleep 0.05
	done
	[ -n "$BL_URL" ] || { echo "run.sh: baseline did not start" >&2; exit 1; }
	BL_URL="http://$BL_URL"
	wait_healthy "$BL_URL"
}

token() {
	curl -fs -F username=$USER_NAME -F api_key=$API_KEY "$1/merchant/auth" |
		sed -n 's/.*"auth":"\([A-Za-z0-9]*\)".*/\1/p'
}

# vendor_failures URL PATH: vendor requests to PATH whose answer was not OK, from /metrics.
vendor_failures() {
	curl -fs "$1/metrics" | awk -v ep="endpoint=\"$2\"" \
		'index($0, "vpay88_requests_total{") == 1 && index($0, ep) && !index($0, "message=\"OK\"") { s += $NF } END { print s + 0 }'
}

declare -A R  # R[name/conns] = "req/s p99_ms errors max_ms cpu_us_per_req" of the best round
f() { cut -d' ' -f"$2" <<<"${R[$1]:-0 - 0 - -}"; }
# cputicks PID: user+system CPU of a process so far, in clock ticks. CPU per request is
# steadier than req/s on a shared VM, so the table shows both.
CLK_TCK=$(getconf CLK_TCK)
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TOTAL_ERRORS=0

# bench NAME CONNS PID URL SCRIPT ARGS...: one wrk run against the server PID; keeps
# the round with the most req/s in R[NAME/CONNS].
bench() {
	local name=$1 c=$2 pid=$3 url=$4 script=$5
	shift 5
	local t=$THREADS
	((c < t)) && t=$c
	local line cpu0 cpu1
	cpu0=$(cputicks "$pid")
	line=$(timeout 60 wrk -t"$t" -c"$c" -d"$DUR" --timeout 5s -s "$script" "$url" -- "$@" | grep '^BENCH' || true)
	cpu1=$(cputicks "$pid")
	[ -n "$line" ] || { echo "run.sh: wrk failed for $name c=$c" >&2; exit 1; }
	local n rps p99 max errs cpu
	n=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' <<<"$line")
	rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
	p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line" | awk '{ printf "%.2f", $1 / 1000 }')
	max=$(sed -n 's/.* max_us=\([0-9]*\).*/\1/p' <<<"$line" | awk '{ printf "%.1f", $1 / 1000 }')
	errs=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(errors|non2xx)=/) { split($i, kv, "="); s += kv[2] } } END { print s + 0 }' <<<"$line")
	cpu=$(awk -v t=$((cpu1 - cpu0)) -v n="$n" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "-" }')
	TOTAL_ERRORS=$((TOTAL_ERRORS + errs))
	printf '  %-21s c=%-3s %8.0f req/s  p99 %7s ms  max %6s ms  server CPU %4s us/req  errors %s\n' \
		"$name" "$c" "$rps" "$p99" "$max" "$cpu" "$errs"
	if awk -v a="$rps" -v b="$(f "$name/$c" 1)" 'BEGIN { exit !(a > b) }'; then
		R[$name/$c]="$rps $p99 $errs $max $cpu"
	fi
}

echo "== building"
go build -o "$OUT/vpay88-sandbox" .
go build -o "$OUT/baseline" ./bench/baseline
go build -o "$OUT/startup" ./bench/startup
go build -o "$OUT/load" ./bench/load
# The shipped binary (Dockerfile) is static and stripped; its idle RSS is measured too.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/vpay88-sandbox-static" .

# busy_pct: share of all CPUs busy over one second, from /proc/stat. Taken before any
# server starts, it is what the rest of the machine uses: on a shared box the numbers
# below are only as good as this is low.
busy_pct() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]; printf "%.0f", 100 * busy / (busy + idle) }'
}
BUSY_BEFORE=$(busy_pct)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$BUSY_BEFORE" -gt 10 ]; then
	echo "run.sh: WARNING: the machine is ${BUSY_BEFORE}% busy before the run (load $LOAD_BEFORE); figures will be low and noisy" >&2
fi
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
NPROC=$(nproc)
KERNEL=$(uname -r)
GOVER=$(go version | cut -d' ' -f3)
FS=$(df -T "$OUT" | awk 'NR == 2 { print $2 " on " $1 }')

# --- 1. throughput: the sandbox and both baselines, interleaved ----------------------
# All three servers stay up; for each connection count the five measurements run back
# to back, so a slow minute of the VM hits them alike. Each is repeated ROUNDS times
# and the table keeps the best round of each.
start_sandbox "$OUT/bench.db" "$OUT/sandbox.log"
SANDBOX_PID=$SB_PID SANDBOX_URL=$SB_URL
start_baseline plain "$OUT/baseline-plain.db"
CEIL_PID=$BL_PID CEIL_URL=$BL_URL
start_baseline update "$OUT/baseline-update.db"
NAIVE_PID=$BL_PID NAIVE_URL=$BL_URL
TOKEN=$(token "$SANDBOX_URL")
[ -n "$TOKEN" ] || { echo "run.sh: no auth token" >&2; exit 1; }
EXISTING="bench-existing-$RUN_ID"
curl -fs -F username=john -F auth="$TOKEN" -F amount=100 -F currency=MYR -F orderid="$EXISTING" \
	-F email=bench@example.com -F phone_number=0123456789 "$SANDBOX_URL/merchant/generate_orders" | grep -q '"status":true'
curl -fs -F username=$USER_NAME -F id="$EXISTING" "$SANDBOX_URL/merchant/check_status" | grep -q '"status":true'
curl -fs -F username=$USER_NAME -F currency=MYR "$SANDBOX_URL/wallet/withdraw_bank_list" | grep -q '"status":true'
for round in $(seq "$ROUNDS"); do
	echo "== throughput, round $round of $ROUNDS (wrk -d$DUR each)"
	for c in $CONNS; do
		bench sandbox_generate "$c" "$SANDBOX_PID" "$SANDBOX_URL" bench/generate_orders.lua "$TOKEN" "go-r$round-c$c-$RUN_ID"
		bench naive_durable "$c" "$NAIVE_PID" "$NAIVE_URL" bench/generate_orders.lua x "naive-r$round-c$c"
		bench ceiling "$c" "$CEIL_PID" "$CEIL_URL" bench/generate_orders.lua x "ceil-r$round-c$c"
		bench sandbox_check_status "$c" "$SANDBOX_PID" "$SANDBOX_URL" bench/form.lua /merchant/check_status username=$USER_NAME id="$EXISTING"
		bench sandbox_bank_list "$c" "$SANDBOX_PID" "$SANDBOX_URL" bench/form.lua /wallet/withdraw_bank_list username=$USER_NAME currency=MYR
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
GEN_FAILED=$(vendor_failures "$SANDBOX_URL" /merchant/generate_orders)
READ_FAILED=$(($(vendor_failures "$SANDBOX_URL" /merchant/check_status) + $(vendor_failures "$SANDBOX_URL" /wallet/withdraw_bank_list)))
DB_SIZE=$(du -h "$OUT/bench.db" | cut -f1)
stop "$SANDBOX_PID"
stop "$CEIL_PID"
stop "$NAIVE_PID"

# --- 3. start to first /healthz ------------------------------------------------------
echo "== start to first /healthz 200 ($STARTS starts per series)"
STARTUP=$(timeout 120 "$OUT/startup" -bin "$OUT/vpay88-sandbox" -dir "$OUT/startup.d" -runs "$STARTS")
echo "$STARTUP" | sed 's/^/  /'
START_FRESH=$(sed -n 's/^STARTUP series=fresh .* median_ms=\([0-9.]*\).*/\1/p' <<<"$STARTUP")
START_EXIST=$(sed -n 's/^STARTUP series=existing .* median_ms=\([0-9.]*\).*/\1/p' <<<"$STARTUP")

# --- 4. RSS --------------------------------------------------------------------------
rss() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
echo "== RSS: idle, then after $LOAD_N orders (fresh data file)"
start_sandbox "$OUT/rss.db" "$OUT/rss.log"
sleep 1
RSS_IDLE=$(rss "$SB_PID" VmRSS)
RSS_IDLE_ANON=$(rss "$SB_PID" RssAnon)
RSS_IDLE_FILE=$(rss "$SB_PID" RssFile)
echo "  idle: VmRSS ${RSS_IDLE} MB (anon ${RSS_IDLE_ANON}, file ${RSS_IDLE_FILE})"
SB_DYN_PID=$SB_PID
# The release build's idle RSS, on its own port and file, while the first one waits.
"$OUT/vpay88-sandbox-static" --addr 127.0.0.1:0 --data "$OUT/rss-static.db" --log-level warn >/dev/null 2>&1 &
STATIC_PID=$!
PIDS+=("$STATIC_PID")
sleep 1
RSS_STATIC=$(rss "$STATIC_PID" VmRSS)
RSS_STATIC_ANON=$(rss "$STATIC_PID" RssAnon)
stop "$STATIC_PID"
rm -f "$OUT/rss-static.db"
echo "  idle, release build (CGO_ENABLED=0 -trimpath -s -w): VmRSS ${RSS_STATIC} MB (anon ${RSS_STATIC_ANON})"
SB_PID=$SB_DYN_PID
TOKEN=$(token "$SB_URL")
LOAD=$("$OUT/load" -url "$SB_URL" -token "$TOKEN" -n "$LOAD_N" -c 32 -prefix "rss-$RUN_ID" -timeout 90s || true)
echo "  $LOAD"
LOADED=$(sed -n 's/.*created=\([0-9]*\).*/\1/p' <<<"$LOAD")
RSS_LOADED=$(rss "$SB_PID" VmRSS)
RSS_LOADED_ANON=$(rss "$SB_PID" RssAnon)
RSS_LOADED_FILE=$(rss "$SB_PID" RssFile)
RSS_HWM=$(rss "$SB_PID" VmHWM)
RSS_DB=$(du -h "$OUT/rss.db" | cut -f1)
echo "  after ${LOADED:-0} orders: VmRSS ${RSS_LOADED} MB (anon ${RSS_LOADED_ANON}, file ${RSS_LOADED_FILE}; peak ${RSS_HWM}); data file ${RSS_DB}"
stop "$SB_PID"

# --- 5. the table --------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
verdict() { awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN { if (v == "-" || v == "") { print "?"; exit } ok = (op == ">=") ? v >= g : v <= g; print ok ? "met" : "MISSED" }'; }
ROWS=("sandbox_generate:sandbox generate_orders"
	"naive_durable:naive durable baseline (db.Update per request)"
	"ceiling:HTTP ceiling (Echo + multipart, no storage)"
	"sandbox_check_status:sandbox check_status"
	"sandbox_bank_list:sandbox withdraw_bank_list (MYR)")

{
	echo "# vpay88-sandbox benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $NPROC CPUs ($CPU), Linux $KERNEL, $GOVER, data files on $FS."
	echo "wrk -t min($THREADS, conns) -d$DUR, best of $ROUNDS rounds; wrk and the servers share the machine."
	echo "Other load: ${BUSY_BEFORE}% of the CPUs busy before the run (load average $LOAD_BEFORE; $LOAD_AFTER after the throughput runs)."
	echo "The sandbox runs with its defaults: embedded config, log level info (one log line per vendor request)."
	echo "wrk corrects p99 for coordinated omission: one stall of the server (or of the VM) shows in p99 as well as in max."
	echo
	echo "## Throughput and latency"
	echo
	printf '| server / endpoint |'
	for c in $CONNS; do printf ' %s conn req/s | p99 / max ms |' "$c"; done
	echo
	printf '|---|'
	for c in $CONNS; do printf -- '---:|---:|'; done
	echo
	for row in "${ROWS[@]}"; do
		key=${row%%:*}
		printf '| %s |' "${row#*:}"
		for c in $CONNS; do printf ' %.0f | %s / %s |' "$(f "$key/$c" 1)" "$(f "$key/$c" 2)" "$(f "$key/$c" 4)"; done
		echo
	done
	echo
	echo "Server CPU per request (user+system, microseconds; same runs):"
	echo
	printf '| server / endpoint |'
	for c in $CONNS; do printf ' %s conn |' "$c"; done
	echo
	printf '|---|'
	for c in $CONNS; do printf -- '---:|'; done
	echo
	for row in "${ROWS[@]}"; do
		key=${row%%:*}
		printf '| %s |' "${row#*:}"
		for c in $CONNS; do printf ' %s |' "$(f "$key/$c" 5)"; done
		echo
	done
	echo
	echo "Transport errors and non-2xx answers over all wrk runs: $TOTAL_ERRORS; vendor answers other than OK"
	echo "(sandbox /metrics): generate_orders $GEN_FAILED, reads $READ_FAILED. Sandbox data file after the runs: $DB_SIZE."
	echo
	echo "## Goals"
	echo
	echo "| goal | target | measured | verdict |"
	echo "|---|---|---:|---|"
	for c in $CONNS; do
		r=$(ratio "$(f "sandbox_generate/$c" 1)" "$(f "naive_durable/$c" 1)")
		if [ "$c" = 16 ]; then
			echo "| generate_orders vs naive durable, 16 conns | >= 2.5x | ${r}x | $(verdict "$r" ">=" 2.5) |"
		else
			echo "| generate_orders vs naive durable, $c conns (for information) | - | ${r}x | - |"
		fi
	done
	for ep in check_status bank_list; do
		for c in $CONNS; do
			r=$(ratio "$(f "sandbox_$ep/$c" 1)" "$(f "ceiling/$c" 1)")
			pct=$(awk -v r="$r" 'BEGIN { if (r == "-") print "-"; else printf "%.0f", r * 100 }')
			echo "| $ep vs HTTP ceiling, $c conns | >= 60% | ${pct}% | $(verdict "$pct" ">=" 60) |"
		done
	done
	echo "| start to first /healthz, fresh file (median of $STARTS) | <= 20 ms | ${START_FRESH} ms | $(verdict "$START_FRESH" "<=" 20) |"
	echo "| start to first /healthz, existing file (median of $STARTS) | <= 20 ms | ${START_EXIST} ms | $(verdict "$START_EXIST" "<=" 20) |"
	echo "| RSS idle (VmRSS), \`go build\` | <= 15 MB | ${RSS_IDLE} MB | $(verdict "$RSS_IDLE" "<=" 15) |"
	echo "| RSS idle (VmRSS), release build as in the Dockerfile | <= 15 MB | ${RSS_STATIC} MB | $(verdict "$RSS_STATIC" "<=" 15) |"
	if [ "${LOADED:-0}" -ge "$LOAD_N" ]; then
		echo "| RSS after $LOAD_N orders (VmRSS) | <= 40 MB | ${RSS_LOADED} MB | $(verdict "$RSS_LOADED" "<=" 40) |"
	else
		echo "| RSS after $LOAD_N orders (VmRSS) | <= 40 MB | only ${LOADED:-0} orders created in time | MISSED |"
	fi
	echo "| private memory (RssAnon) after $LOAD_N orders, for information | - | ${RSS_LOADED_ANON} MB | - |"
	echo
	echo "RSS detail: idle anon ${RSS_IDLE_ANON} MB + file ${RSS_IDLE_FILE} MB; after the load anon ${RSS_LOADED_ANON} MB +"
	echo "file ${RSS_LOADED_FILE} MB (file = the binary's mapped pages plus the bbolt mmap), peak ${RSS_HWM} MB; data file ${RSS_DB}."
	echo "Loader: ${LOAD}."
	echo
	echo "Startup:"
	echo
	echo '```'
	echo "$STARTUP"
	echo '```'
} >"$OUT/results.md"

echo
cat "$OUT/results.md"
echo
echo "(saved to $OUT/results.md)"
