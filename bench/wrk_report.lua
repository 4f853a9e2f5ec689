-- Shared by the wrk scripts (loaded with dofile from the repository root): counts non-2xx
-- answers, so a fast error path cannot pass for throughput, and prints one RESULT line.
-- Each wrk thread runs its own copy of the script: count there, sum in done().
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

bad = 0
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total_bad = 0
  for _, thread in ipairs(threads) do total_bad = total_bad + (thread:get("bad") or 0) end
  io.write(string.format("RESULT rps=%.1f p99_us=%d errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, total_bad))
end
