-- wrk script for the data API on the built-in table (family cf, keys k0..k9999).
-- Arguments (after --): <kind> <key count>, kind one of
--   mutate-row  POST :mutateRow, one SetCell of 100 bytes at server time
--   read-row    POST :readRows for one row key
local kind, nkeys = "read-row", 10000
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local keys = {}

local function base64(data)
  return ((data:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

local value = base64(string.rep("v", 100))

function init(args)
  kind = args[1] or kind
  nkeys = tonumber(args[2] or nkeys)
  for i = 0, nkeys - 1 do keys[i] = base64("k" .. i) end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  local k = keys[math.random(0, nkeys - 1)]
  if kind == "mutate-row" then
    return wrk.format("POST", "/v1/tables/default:mutateRow", headers,
      '{"rowKey":"' .. k .. '","mutations":[{"setCell":{"familyName":"cf",' ..
      '"timestampMicros":"-1","value":"' .. value .. '"}}]}')
  end
  return wrk.format("POST", "/v1/tables/default:readRows", headers,
    '{"rows":{"rowKeys":["' .. k .. '"]}}')
end


dofile("bench/wrk_report.lua")
