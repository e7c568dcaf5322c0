-- wrk script for POST /merchant/generate_orders (and the baselines, which take the
-- same request). Every request is a multipart/form-data body, as the vendor's PHP
-- examples send, with a unique orderid: <run prefix>-<thread>-<counter>.
--
--   wrk -t2 -c16 -d5s -s bench/generate_orders.lua http://127.0.0.1:PORT -- TOKEN PREFIX
--
-- TOKEN is a live auth token from /merchant/auth (fetched with curl by run.sh);
-- PREFIX must differ between runs against one data file, so ids never repeat.

local boundary = "----vpay88benchBoundary7MA4YWxkTrZu0gW"
local threads = {}
local next_thread = 0

-- setup runs once per thread in the main Lua state: give each thread its own id.
function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
  table.insert(threads, thread)
end

local function part(name, value)
  return "--" .. boundary .. "\r\n" ..
    'Content-Disposition: form-data; name="' .. name .. '"\r\n\r\n' ..
    value .. "\r\n"
end

local head, tail, prefix
local counter = 0
local headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }

-- init runs in each thread with the arguments after "--".
function init(args)
  local token = args[1] or os.getenv("VPAY88_TOKEN") or ""
  prefix = (args[2] or os.getenv("VPAY88_RUN") or "run") .. "-" .. tostring(tid or 0) .. "-"
  -- Everything but the orderid is the same for every request: build it once.
  head = part("username", "john") .. part("auth", token) .. part("amount", "100") ..
    part("currency", "MYR") .. part("email", "bench@example.com") ..
    part("phone_number", "0123456789") ..
    "--" .. boundary .. "\r\n" .. 'Content-Disposition: form-data; name="orderid"\r\n\r\n'
  tail = "\r\n--" .. boundary .. "--\r\n"
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/merchant/generate_orders", headers, head .. prefix .. counter .. tail)
end

-- done prints one machine-readable line that run.sh parses (latency in microseconds).
function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
