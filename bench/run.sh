#!/usr/bin/env bash
# bench/run.sh — the sandbox's rerunnable benchmark (issue 2).
#
# In one run, side by side, on this machine:
#   * POST /merchant/generate_orders on the sandbox at 1, 16 and 64 connections, with its
#     default durability (machine: fsync at each commit) and with --ephemeral (a temporary
#     state file, no fsync);
#   * the same requests on two baselines built from bench/baseline: a bare Echo handler
#     that parses the same multipart form (the HTTP ceiling) and the same plus one
#     bbolt db.Update per request (the naive durable design);
#   * /merchant/check_status of an existing order and /wallet/withdraw_bank_list;
#   * when stripe-mock is on the PATH, its POST /v1/customers and GET /v1/customers/cus_123
#     at the same connection counts (go install github.com/stripe/stripe-mock@v0.203.0);
#   * process start to the first /healthz 200 (bench/startup, median of 20 starts);
#   * what sandboxtest.New costs a test (go test -bench 'New$' ./sandboxtest);
#   * RSS when idle and after 100k orders (bench/load).
# It prints a table and writes it to bench/out/results.md. All traffic stays on
# 127.0.0.1; every process it starts is stopped on exit. Takes about 4 minutes, never
# more than 5.
#
# Knobs (environment): BENCH_DURATION (wrk run, default 3s), BENCH_CONNS ("1 16 64"),
# BENCH_THREADS (wrk threads, default 2), BENCH_ROUNDS (repeats of each wrk run, best
# kept, default 2), BENCH_LOAD_N (orders for the RSS step, 100000), BENCH_STARTS (starts
# per startup series, 20).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=bench/out
DUR=${BENCH_DURATION:-3s}
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
	rm -rf "$OUT/startup.d" "$OUT/ephemeral.d"
	# The sandbox logs each vendor request at info (its default level, kept so the
	# figures include that cost): keep the ends of the logs, not a million lines.
	local f
	for f in "$OUT/sandbox.log" "$OUT/sandbox-ephemeral.log" "$OUT/rss.log"; do
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

# start_sandbox DATA LOG [FLAGS...]: starts the sandbox on a free port; sets SB_PID and
# SB_URL. With DATA empty no --data is given (for --ephemeral, which makes its own file).
start_sandbox() {
	local data=$1 log=$2
	shift 2
	rm -f "$log"
	if [ -n "$data" ]; then
		rm -f "$data"
		set -- --data "$data" "$@"
	fi
	"$OUT/vpay88-sandbox" --addr 127.0.0.1:0 --log-level info "$@" >/dev/null 2>"$log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	SB_URL=""
	for _ in $(seq 100); do
		SB_URL=$(sed -n 's/.*listening" url=\(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$log" | head -1)
		[ -n "$SB_URL" ] && break
		sleep 0.05
	done
	[ -n "$SB_URL" ] || { echo "run.sh: sandbox did not start:" >&2; cat "$log" >&2; exit 1; }
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

# start_stripe_mock LOG: starts stripe-mock with HTTP and HTTPS on ports the system picks,
# on 127.0.0.1 only (-http-port/-https-port would bind every interface, and without
# -https-addr it also opens :12112); sets SM_PID and SM_URL. It loads its OpenAPI spec
# first, which takes 1-3 s.
start_stripe_mock() {
	rm -f "$1"
	"$STRIPE_MOCK" -http-addr 127.0.0.1:0 -https-addr 127.0.0.1:0 >"$1" 2>&1 &
	SM_PID=$!
	PIDS+=("$SM_PID")
	SM_URL=""
	for _ in $(seq 300); do
		SM_URL=$(sed -n 's/^Listening for HTTP at address: \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$1" | head -1)
		[ -n "$SM_URL" ] && break
		sleep 0.05
	done
	[ -n "$SM_URL" ] || { echo "run.sh: stripe-mock did not start:" >&2; cat "$1" >&2; exit 1; }
	SM_URL="http://$SM_URL"
	curl -fs -o /dev/null -H 'Authorization: Bearer sk_test_123' "$SM_URL/v1/customers/cus_123" ||
		{ echo "run.sh: stripe-mock does not answer GET /v1/customers/cus_123" >&2; exit 1; }
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

declare -A R  # R[name/conns] = "req/s p99_ms errors max_ms cpu_us_per_req p50_ms" of the best round
f() { cut -d' ' -f"$2" <<<"${R[$1]:-0 - 0 - - -}"; }
# has NAME/CONNS: that measurement was made (its connection count is in BENCH_CONNS, its
# server was there).
has() { [ -n "${R[$1]:-}" ]; }
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
	local n rps p50 p99 max errs cpu
	n=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' <<<"$line")
	rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
	p50=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<<"$line" | awk '{ printf "%.3f", $1 / 1000 }')
	p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$line" | awk '{ printf "%.2f", $1 / 1000 }')
	max=$(sed -n 's/.* max_us=\([0-9]*\).*/\1/p' <<<"$line" | awk '{ printf "%.1f", $1 / 1000 }')
	errs=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(errors|non2xx)=/) { split($i, kv, "="); s += kv[2] } } END { print s + 0 }' <<<"$line")
	cpu=$(awk -v t=$((cpu1 - cpu0)) -v n="$n" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "-" }')
	TOTAL_ERRORS=$((TOTAL_ERRORS + errs))
	printf '  %-21s c=%-3s %8.0f req/s  p50 %6s ms  p99 %7s ms  max %6s ms  server CPU %4s us/req  errors %s\n' \
		"$name" "$c" "$rps" "$p50" "$p99" "$max" "$cpu" "$errs"
	if ! has "$name/$c" || awk -v a="$rps" -v b="$(f "$name/$c" 1)" 'BEGIN { exit !(a > b) }'; then
		R[$name/$c]="$rps $p99 $errs $max $cpu $p50"
	fi
}

echo "== building [${SECONDS}s]"
go build -o "$OUT/vpay88-sandbox" .
go build -o "$OUT/baseline" ./bench/baseline
go build -o "$OUT/startup" ./bench/startup
go build -o "$OUT/load" ./bench/load
# The shipped binary (Dockerfile) is static and stripped; its idle RSS is measured too.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/vpay88-sandbox-static" .
# sandboxtest's test binary, for step 3: building it here keeps its compile and link
# (15-20 s on a busy VM) out of that step. BenchmarkNew is in sandboxtest_test.go;
# without it, or if the package does not build, step 3's row says so and the run goes on.
NEW_MS="" NEW_NOTE="" NEW_LOG=""
rm -f "$OUT/sandboxtest.test"
if ! grep -qs '^func BenchmarkNew(' sandboxtest/*_test.go; then
	NEW_NOTE="not measured (no BenchmarkNew in sandboxtest)"
elif ! NEW_LOG=$(go test -c -o "$OUT/sandboxtest.test" ./sandboxtest 2>&1); then
	NEW_NOTE="not measured (go test ./sandboxtest does not build)"
fi
BUILD_SECS=$SECONDS

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
# stripe-mock is optional: without it its rows say so and the goals that need it say "?".
STRIPE_MOCK=$(command -v stripe-mock || true)
SM_ABSENT="not measured (stripe-mock not on PATH)"
SM_VERSION=""
if [ -n "$STRIPE_MOCK" ]; then
	# Its -version says "master" when built with go install; the module version is in the binary.
	SM_VERSION=$(go version -m "$STRIPE_MOCK" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')
	SM_VERSION=${SM_VERSION:-$("$STRIPE_MOCK" -version 2>&1 | head -1)}
else
	echo "run.sh: stripe-mock not on PATH: its rows are left out (go install github.com/stripe/stripe-mock@v0.203.0)" >&2
fi

# --- 1. throughput: the sandbox and its yardsticks, interleaved ----------------------
# All servers stay up; for each connection count the measurements (eight with
# stripe-mock, six without) run back to back, so a slow minute of the VM hits them
# alike; the pairs a goal compares run next to each other. Each is repeated ROUNDS
# times and the table keeps the best round of each.
start_sandbox "$OUT/bench.db" "$OUT/sandbox.log"
SANDBOX_PID=$SB_PID SANDBOX_URL=$SB_URL
# --ephemeral makes its file under TMPDIR: here, so it is on the same file system as the
# others and removed with them if the process dies before it can.
mkdir -p "$OUT/ephemeral.d"
TMPDIR="$PWD/$OUT/ephemeral.d" start_sandbox "" "$OUT/sandbox-ephemeral.log" --ephemeral
EPH_PID=$SB_PID EPH_URL=$SB_URL
grep -q 'durability=ephemeral' "$OUT/sandbox-ephemeral.log" ||
	{ echo "run.sh: the --ephemeral sandbox does not say durability=ephemeral:" >&2; cat "$OUT/sandbox-ephemeral.log" >&2; exit 1; }
start_baseline plain "$OUT/baseline-plain.db"
CEIL_PID=$BL_PID CEIL_URL=$BL_URL
start_baseline update "$OUT/baseline-update.db"
NAIVE_PID=$BL_PID NAIVE_URL=$BL_URL
if [ -n "$STRIPE_MOCK" ]; then
	start_stripe_mock "$OUT/stripe-mock.log"
fi
TOKEN=$(token "$SANDBOX_URL")
[ -n "$TOKEN" ] || { echo "run.sh: no auth token" >&2; exit 1; }
EPH_TOKEN=$(token "$EPH_URL")
[ -n "$EPH_TOKEN" ] || { echo "run.sh: no auth token from the --ephemeral sandbox" >&2; exit 1; }
EXISTING="bench-existing-$RUN_ID"
curl -fs -F username=john -F auth="$TOKEN" -F amount=100 -F currency=MYR -F orderid="$EXISTING" \
	-F email=bench@example.com -F phone_number=0123456789 "$SANDBOX_URL/merchant/generate_orders" | grep -q '"status":true'
curl -fs -F username=$USER_NAME -F id="$EXISTING" "$SANDBOX_URL/merchant/check_status" | grep -q '"status":true'
curl -fs -F username=$USER_NAME -F currency=MYR "$SANDBOX_URL/wallet/withdraw_bank_list" | grep -q '"status":true'
for round in $(seq "$ROUNDS"); do
	echo "== throughput, round $round of $ROUNDS (wrk -d$DUR each) [${SECONDS}s]"
	for c in $CONNS; do
		bench sandbox_generate "$c" "$SANDBOX_PID" "$SANDBOX_URL" bench/generate_orders.lua "$TOKEN" "go-r$round-c$c-$RUN_ID"
		bench naive_durable "$c" "$NAIVE_PID" "$NAIVE_URL" bench/generate_orders.lua x "naive-r$round-c$c"
		bench sandbox_ephemeral "$c" "$EPH_PID" "$EPH_URL" bench/generate_orders.lua "$EPH_TOKEN" "eph-r$round-c$c-$RUN_ID"
		if [ -n "$STRIPE_MOCK" ]; then
			bench stripe_post_customers "$c" "$SM_PID" "$SM_URL" bench/stripe.lua POST /v1/customers email=a@example.com
		fi
		bench ceiling "$c" "$CEIL_PID" "$CEIL_URL" bench/generate_orders.lua x "ceil-r$round-c$c"
		bench sandbox_check_status "$c" "$SANDBOX_PID" "$SANDBOX_URL" bench/form.lua /merchant/check_status username=$USER_NAME id="$EXISTING"
		bench sandbox_bank_list "$c" "$SANDBOX_PID" "$SANDBOX_URL" bench/form.lua /wallet/withdraw_bank_list username=$USER_NAME currency=MYR
		if [ -n "$STRIPE_MOCK" ]; then
			bench stripe_get_customer "$c" "$SM_PID" "$SM_URL" bench/stripe.lua GET /v1/customers/cus_123
		fi
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
GEN_FAILED=$(vendor_failures "$SANDBOX_URL" /merchant/generate_orders)
EPH_FAILED=$(vendor_failures "$EPH_URL" /merchant/generate_orders)
READ_FAILED=$(($(vendor_failures "$SANDBOX_URL" /merchant/check_status) + $(vendor_failures "$SANDBOX_URL" /wallet/withdraw_bank_list)))
DB_SIZE=$(du -h "$OUT/bench.db" | cut -f1)
EPH_DB_SIZE=$(du -ch "$OUT"/ephemeral.d/*/*.db 2>/dev/null | tail -1 | cut -f1)
stop "$SANDBOX_PID"
stop "$EPH_PID"
# The ephemeral sandbox removes its file when it exits; a leftover would be a bug.
EPH_LEFT=$(find "$OUT/ephemeral.d" -mindepth 1 | wc -l)
stop "$CEIL_PID"
stop "$NAIVE_PID"
if [ -n "$STRIPE_MOCK" ]; then
	stop "$SM_PID"
fi

# --- 2. start to first /healthz ------------------------------------------------------
echo "== start to first /healthz 200 ($STARTS starts per series) [${SECONDS}s]"
STARTUP=$(timeout 120 "$OUT/startup" -bin "$OUT/vpay88-sandbox" -dir "$OUT/startup.d" -runs "$STARTS")
echo "$STARTUP" | sed 's/^/  /'
START_FRESH=$(sed -n 's/^STARTUP series=fresh .* median_ms=\([0-9.]*\).*/\1/p' <<<"$STARTUP")
START_EXIST=$(sed -n 's/^STARTUP series=existing .* median_ms=\([0-9.]*\).*/\1/p' <<<"$STARTUP")

# --- 3. sandboxtest.New per test -----------------------------------------------------
# What each Go test that calls sandboxtest.New pays to get its own sandbox (in-process,
# on 127.0.0.1:0): go test ./sandboxtest -run '^$' -bench 'New$' -benchtime 200x, with
# the test binary built above, run in the package's folder as go test would.
if [ -z "$NEW_NOTE" ]; then
	echo "== sandboxtest.New (go test ./sandboxtest -run '^\$' -bench 'New\$' -benchtime 200x) [${SECONDS}s]"
	if NEW_LOG=$(cd sandboxtest && timeout 120 "../$OUT/sandboxtest.test" -test.run '^$' -test.bench 'New$' -test.benchtime 200x -test.benchmem 2>&1); then
		NEW_LINE=$(grep -m1 '^BenchmarkNew' <<<"$NEW_LOG" || true)
		echo "  $NEW_LINE"
		NEW_MS=$(awk '{ for (i = 2; i <= NF; i++) if ($i == "ns/op") { printf "%.2f", $(i - 1) / 1e6; exit } }' <<<"$NEW_LINE")
		[ -n "$NEW_MS" ] || NEW_NOTE="not measured (no ns/op in the benchmark's output)"
	else
		NEW_NOTE="not measured (BenchmarkNew failed)"
	fi
fi
if [ -n "$NEW_NOTE" ]; then
	echo "run.sh: sandboxtest.New: $NEW_NOTE" >&2
	[ -z "$NEW_LOG" ] || tail -n 20 <<<"$NEW_LOG" | sed 's/^/  /' >&2
fi

# --- 4. RSS --------------------------------------------------------------------------
rss() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
echo "== RSS: idle, then after $LOAD_N orders (fresh data file) [${SECONDS}s]"
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
# The loader gets what is left of 285 s (at most 90 s, at least 20): on a busy VM it is
# the step that runs long, and the whole run must stay under 5 minutes. Running out of
# time shows in the table ("only N orders created in time").
LOAD_SECS=$((285 - SECONDS))
((LOAD_SECS > 90)) && LOAD_SECS=90
((LOAD_SECS < 20)) && LOAD_SECS=20
LOAD=$("$OUT/load" -url "$SB_URL" -token "$TOKEN" -n "$LOAD_N" -c 32 -prefix "rss-$RUN_ID" -timeout "${LOAD_SECS}s" || true)
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
# vs A B: req/s of measurement A over that of B, or "-" when either was not made.
vs() { if has "$1" && has "$2"; then ratio "$(f "$1" 1)" "$(f "$2" 1)"; else echo -; fi; }
# why_not NAME/CONNS: why a measurement is missing, for a goal's "measured" cell.
why_not() {
	case $1 in
	stripe_*) [ -n "$STRIPE_MOCK" ] || { echo "stripe-mock not on PATH"; return; } ;;
	esac
	echo "${1#*/} conns not in BENCH_CONNS"
}
# goal_conns: the connection counts the goals name (1 and 16, measured or not), then
# the other counts measured, whose rows are for information.
goal_conns() {
	local c list="1 16"
	for c in $CONNS; do [[ " $list " == *" $c "* ]] || list+=" $c"; done
	echo "$list"
}
# conns C: "1 conn" or "C conns".
conns() { if [ "$1" = 1 ]; then echo "1 conn"; else echo "$1 conns"; fi; }
ROWS=("sandbox_generate:sandbox generate_orders, durability machine (the default)"
	"sandbox_ephemeral:sandbox generate_orders, --ephemeral"
	"naive_durable:naive durable baseline (db.Update per request)"
	"ceiling:HTTP ceiling (Echo + multipart, no storage)"
	"sandbox_check_status:sandbox check_status"
	"sandbox_bank_list:sandbox withdraw_bank_list (MYR)"
	"stripe_post_customers:stripe-mock POST /v1/customers"
	"stripe_get_customer:stripe-mock GET /v1/customers/cus_123")
# table_rows FIELDS...: one line per ROWS entry, the given fields of R for each
# connection count joined by " / " (field 1, req/s, printed whole); stripe-mock's rows
# say why they are empty when it is absent.
table_rows() {
	local row key c i cell fld
	for row in "${ROWS[@]}"; do
		key=${row%%:*}
		printf '| %s |' "${row#*:}"
		if [[ $key == stripe_* && -z "$STRIPE_MOCK" ]]; then
			printf ' %s |' "$SM_ABSENT"
			for ((i = 1; i < $(wc -w <<<"$CONNS") * $#; i++)); do printf ' |'; done
			echo
			continue
		fi
		for c in $CONNS; do
			for fld in "$@"; do
				cell=""
				for i in ${fld//,/ }; do
					if [ "$i" = 1 ]; then
						cell+=$(printf '%.0f' "$(f "$key/$c" 1)")
					else
						cell+="${cell:+ / }$(f "$key/$c" "$i")"
					fi
				done
				printf ' %s |' "$cell"
			done
		done
		echo
	done
}

{
	echo "# vpay88-sandbox benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $NPROC CPUs ($CPU), Linux $KERNEL, $GOVER, data files on $FS."
	echo "wrk -t min($THREADS, conns) -d$DUR, best of $ROUNDS round(s) (by req/s; p50, p99 and max are that round's); wrk and the servers share the machine."
	echo "Other load: ${BUSY_BEFORE}% of the CPUs busy before the run (load average $LOAD_BEFORE; $LOAD_AFTER after the throughput runs)."
	echo "The sandbox runs with its defaults: embedded config, log level info (one log line per vendor request), durability"
	echo "machine (fsync at each commit); the --ephemeral one keeps its state in a temporary file on the same file system, without fsync."
	if [ -n "$STRIPE_MOCK" ]; then
		echo "stripe-mock ${SM_VERSION} ($STRIPE_MOCK): form bodies, \`Authorization: Bearer sk_test_123\`; it keeps no state."
	else
		echo "stripe-mock: $SM_ABSENT; go install github.com/stripe/stripe-mock@v0.203.0 to compare with it."
	fi
	echo "wrk corrects p99 for coordinated omission: one stall of the server (or of the VM) shows in p99 as well as in max."
	echo
	echo "## Throughput and latency"
	echo
	printf '| server / endpoint |'
	for c in $CONNS; do printf ' %s conn req/s | p50 / p99 / max ms |' "$c"; done
	echo
	printf '|---|'
	for c in $CONNS; do printf -- '---:|---:|'; done
	echo
	table_rows 1 6,2,4
	echo
	echo "Server CPU per request (user+system, microseconds; same runs):"
	echo
	printf '| server / endpoint |'
	for c in $CONNS; do printf ' %s conn |' "$c"; done
	echo
	printf '|---|'
	for c in $CONNS; do printf -- '---:|'; done
	echo
	table_rows 5
	echo
	echo "Transport errors and non-2xx answers over all wrk runs: $TOTAL_ERRORS; vendor answers other than OK"
	echo "(sandbox /metrics): generate_orders $GEN_FAILED (--ephemeral $EPH_FAILED), reads $READ_FAILED."
	echo "Sandbox data file after the runs: $DB_SIZE; the --ephemeral one's: ${EPH_DB_SIZE:--}, and $EPH_LEFT files left once it exited."
	echo
	echo "## Goals"
	echo
	echo "| goal | target | measured | verdict |"
	echo "|---|---|---:|---|"
	if has sandbox_ephemeral/1; then
		p50=$(f sandbox_ephemeral/1 6)
		echo "| generate_orders --ephemeral, 1 conn: p50 | <= 0.3 ms | ${p50} ms | $(verdict "$p50" "<=" 0.3) |"
	else
		echo "| generate_orders --ephemeral, 1 conn: p50 | <= 0.3 ms | not measured ($(why_not sandbox_ephemeral/1)) | ? |"
	fi
	for c in $(goal_conns); do
		r=$(vs "sandbox_ephemeral/$c" "stripe_post_customers/$c")
		if [ "$r" != - ]; then
			m="$(printf '%.0f vs %.0f req/s: %sx' "$(f "sandbox_ephemeral/$c" 1)" "$(f "stripe_post_customers/$c" 1)" "$r")"
		elif has "sandbox_ephemeral/$c"; then
			m="not measured ($(why_not "stripe_post_customers/$c"))"
		else
			m="not measured ($(why_not "sandbox_ephemeral/$c"))"
		fi
		label="generate_orders --ephemeral vs stripe-mock POST /v1/customers, $(conns "$c")"
		# Issue 20 keeps stripe-mock as the bar at 16 connections; at 1 it is shown.
		if [ "$c" = 16 ]; then
			echo "| $label | >= 1x | $m | $(verdict "$r" ">=" 1) |"
		elif [ "$r" != - ]; then
			echo "| $label (for information) | - | $m | - |"
		fi
	done
	for c in $(goal_conns); do
		r=$(vs "sandbox_generate/$c" "naive_durable/$c")
		label="generate_orders (durability machine) vs naive durable, $(conns "$c")"
		if [ "$c" = 16 ]; then
			m="${r}x"
			[ "$r" = - ] && m="not measured ($(why_not sandbox_generate/16))"
			echo "| $label | >= 2.5x | $m | $(verdict "$r" ">=" 2.5) |"
		elif [ "$r" != - ]; then
			echo "| $label (for information) | - | ${r}x | - |"
		fi
	done
	for c in $(goal_conns); do
		pct=$(vs "sandbox_check_status/$c" "ceiling/$c" | awk '{ if ($1 == "-") print "-"; else printf "%.0f", $1 * 100 }')
		m="${pct}%"
		[ "$pct" = - ] && m="not measured ($(why_not "sandbox_check_status/$c"))"
		if [ "$c" = 1 ] || [ "$c" = 16 ]; then
			echo "| check_status vs HTTP ceiling, $(conns "$c") | >= 80% | $m | $(verdict "$pct" ">=" 80) |"
		elif [ "$pct" != - ]; then
			echo "| check_status vs HTTP ceiling, $(conns "$c") (for information) | - | $m | - |"
		fi
	done
	# withdraw_bank_list keeps the older goal, 60 % at every count measured.
	for c in $CONNS; do
		pct=$(vs "sandbox_bank_list/$c" "ceiling/$c" | awk '{ if ($1 == "-") print "-"; else printf "%.0f", $1 * 100 }')
		echo "| bank_list vs HTTP ceiling, $(conns "$c") | >= 60% | ${pct}% | $(verdict "$pct" ">=" 60) |"
	done
	echo "| start to first /healthz, fresh file (median of $STARTS) | <= 20 ms | ${START_FRESH} ms | $(verdict "$START_FRESH" "<=" 20) |"
	echo "| start to first /healthz, existing file (median of $STARTS) | <= 20 ms | ${START_EXIST} ms | $(verdict "$START_EXIST" "<=" 20) |"
	# Issue 20 retired the idle-RSS goal (no user feels it): reported only.
	echo "| RSS idle (VmRSS), \`go build\`, for information | - | ${RSS_IDLE} MB | - |"
	echo "| RSS idle (VmRSS), release build as in the Dockerfile, for information | - | ${RSS_STATIC} MB | - |"
	# So is the loaded figure: most of it is the state file mapped by bbolt (file-backed
	# pages the kernel reclaims), shown beside the private memory below.
	if [ "${LOADED:-0}" -ge "$LOAD_N" ]; then
		echo "| RSS after $LOAD_N orders (VmRSS), for information | - | ${RSS_LOADED} MB | - |"
	else
		echo "| RSS after $LOAD_N orders (VmRSS), for information | - | only ${LOADED:-0} orders created in time | - |"
	fi
	echo "| private memory (RssAnon) after $LOAD_N orders, for information | - | ${RSS_LOADED_ANON} MB | - |"
	if [ -n "$NEW_MS" ]; then
		echo "| \`sandboxtest.New\` per test (BenchmarkNew, 200 iterations) | <= 1 ms | ${NEW_MS} ms | $(verdict "$NEW_MS" "<=" 1) |"
	else
		echo "| \`sandboxtest.New\` per test (BenchmarkNew, 200 iterations) | <= 1 ms | $NEW_NOTE | ? |"
	fi
	echo
	echo "RSS detail: idle anon ${RSS_IDLE_ANON} MB + file ${RSS_IDLE_FILE} MB; after the load anon ${RSS_LOADED_ANON} MB +"
	echo "file ${RSS_LOADED_FILE} MB (file = the binary's mapped pages plus the bbolt mmap), peak ${RSS_HWM} MB; data file ${RSS_DB}."
	echo "Loader: ${LOAD}."
	echo
	echo "Whole run: ${SECONDS} s, builds included (${BUILD_SECS} s)."
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
