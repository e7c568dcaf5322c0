-- wrk script for a read endpoint: the same multipart/form-data body on every request.
--
--   wrk -t2 -c16 -d5s -s bench/form.lua http://127.0.0.1:PORT -- /merchant/check_status username=vpay88-test id=X
--
-- The first argument after "--" is the path, the rest are name=value fields.

local boundary = "----vpay88benchBoundary7MA4YWxkTrZu0gW"
local req

function init(args)
  local path = args[1] or "/"
  local body = ""
  for i = 2, #args do
    local name, value = string.match(args[i], "^([^=]+)=(.*)$")
    if name then
      body = body .. "--" .. boundary .. "\r\n" ..
        'Content-Disposition: form-data; name="' .. name .. '"\r\n\r\n' .. value .. "\r\n"
    end
  end
  body = body .. "--" .. boundary .. "--\r\n"
  -- A constant request: format it once, wrk sends the same bytes every time.
  req = wrk.format("POST", path, { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, body)
end

function request()
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
