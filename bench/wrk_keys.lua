-- wrk script: every request asks for a random one of N keys.
-- Arguments (after --): <kind> <key count>, kind one of
--   kv-get | kv-set | webdis-get | webdis-set | static
local kind, nkeys = "kv-get", 10000
local value = string.rep("v", 100)

function init(args)
  kind = args[1] or kind
  nkeys = tonumber(args[2] or nkeys)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  local k = "k" .. math.random(0, nkeys - 1)
  if kind == "kv-get" then
    return wrk.format("GET", "/get?key=" .. k)
  elseif kind == "kv-set" then
    return wrk.format("GET", "/set?" .. k .. "=" .. value)
  elseif kind == "webdis-get" then
    return wrk.format("GET", "/GET/" .. k .. ".txt")
  elseif kind == "webdis-set" then
    return wrk.format("GET", "/SET/" .. k .. "/" .. value)
  else
    return wrk.format("GET", "/v.txt")
  end
end

-- Count non-2xx answers so a fast error path cannot pass for throughput.
-- Each wrk thread runs its own copy of this script: count there, sum in done().
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

bad = 0
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("bad") or 0) end
  io.write(string.format("RESULT rps=%.1f p99_us=%d errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, bad))
end
