-- wrk script for the data API on the built-in table (family cf, keys k0..k9999).
-- Arguments (after --): <kind> <key count>, kind one of
--   mutate-row     POST :mutateRow, one SetCell of 100 bytes at server time (JSON)
--   read-row       POST :readRows for one row key (JSON)
--   mutate-row-pb  the same two in binary protobuf, as client libraries send them
--   read-row-pb
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

-- Protobuf wire format, enough for the two requests (field numbers from
-- protos/kvstore/v1/store.proto and data.proto).
local function varint(n)
  local out = {}
  while n >= 128 do
    out[#out + 1] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  out[#out + 1] = string.char(n)
  return table.concat(out)
end
local function field(tag, bytes) return string.char(tag) .. varint(#bytes) .. bytes end
local minus_one = "\255\255\255\255\255\255\255\255\255\1"  -- int64 -1
local set_cell_pb = field(0x0a, "cf") .. "\24" .. minus_one .. field(0x22, string.rep("v", 100))
local pb_read, pb_mutate = {}, {}

function init(args)
  kind = args[1] or kind
  nkeys = tonumber(args[2] or nkeys)
  for i = 0, nkeys - 1 do
    keys[i] = base64("k" .. i)
    -- ReadRowsRequest{rows: RowSet{row_keys: [k]}}
    pb_read[i] = field(0x0a, field(0x0a, "k" .. i))
    -- MutateRowRequest{row_key: k, mutations: [Mutation{set_cell: ...}]}
    pb_mutate[i] = field(0x0a, "k" .. i) .. field(0x12, field(0x0a, set_cell_pb))
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

local headers = { ["Content-Type"] = "application/json" }
local pb_headers = { ["Content-Type"] = "application/x-protobuf" }

function request()
  local i = math.random(0, nkeys - 1)
  if kind == "read-row-pb" then
    return wrk.format("POST", "/v1/tables/default:readRows", pb_headers, pb_read[i])
  elseif kind == "mutate-row-pb" then
    return wrk.format("POST", "/v1/tables/default:mutateRow", pb_headers, pb_mutate[i])
  end
  local k = keys[i]
  if kind == "mutate-row" then
    return wrk.format("POST", "/v1/tables/default:mutateRow", headers,
      '{"rowKey":"' .. k .. '","mutations":[{"setCell":{"familyName":"cf",' ..
      '"timestampMicros":"-1","value":"' .. value .. '"}}]}')
  end
  return wrk.format("POST", "/v1/tables/default:readRows", headers,
    '{"rows":{"rowKeys":["' .. k .. '"]}}')
end


dofile("bench/wrk_report.lua")
