-- wrk script for stripe-mock, the yardstick run.sh compares the sandbox with: the
-- same request on every request, with a test-mode key as the Stripe API expects.
--
--   wrk -t2 -c16 -d5s -s bench/stripe.lua http://127.0.0.1:PORT -- POST /v1/customers email=a@example.com
--   wrk -t2 -c16 -d5s -s bench/stripe.lua http://127.0.0.1:PORT -- GET /v1/customers/cus_123
--
-- The arguments after "--" are the method, the path and, for a POST, the
-- application/x-www-form-urlencoded body (Stripe's API takes form bodies, not JSON).
-- stripe-mock keeps no state, so one constant body serves every request.

local req

function init(args)
  local method = args[1] or "GET"
  local path = args[2] or "/"
  local body = args[3]
  local headers = { ["Authorization"] = "Bearer sk_test_123" }
  if body then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  -- A constant request: format it once, wrk sends the same bytes every time.
  req = wrk.format(method, path, headers, body)
end

function request()
  return req
end

-- done prints one machine-readable line that run.sh parses (latency in microseconds),
-- the same line as generate_orders.lua and form.lua.
function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
