-- wrk script: pre-signed signed-json webhooks, each sent once.
--
-- Usage: wrk -tN -c32 -d10s -s signed_webhooks.lua http://HOST:PORT -- REQUESTS_FILE PATH N
-- REQUESTS_FILE has one request per line: "<X-Liaison-Signature value>\t<JSON body>". wrk cannot
-- compute an HMAC, so the benchmark signs the bodies beforehand. Thread k of N takes lines k,
-- k+N, k+2N...: no two threads send the same delivery (a redelivery is answered 200 "duplicate",
-- which is not what this measures).

local next_index = 0

function setup(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
end

function init(args)
  local file, path, threads = args[1], args[2], tonumber(args[3] or "1")
  requests = {}
  local line_number = 0
  for line in io.lines(file) do
    if line_number % threads == index then
      local signature, body = line:match("^([^\t]+)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["X-Liaison-Signature"] = signature,
      }, body)
    end
    line_number = line_number + 1
  end
  position = 0
end

function request()
  position = position % #requests + 1
  return requests[position]
end

-- One JSON line for the benchmark to read (latencies in microseconds).
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"non_2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
