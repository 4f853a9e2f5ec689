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


dofile("bench/wrk_report.lua")
