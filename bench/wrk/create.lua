-- POST a create with a number no other request uses, then report as JSON.
-- BENCH_PATH, BENCH_BODY (with NUMBER where the number goes) and BENCH_KEY
-- come from the environment, BENCH_FIRST the first number's offset.
local threads = {}
local counter = 0
local path = os.getenv("BENCH_PATH")
local template = os.getenv("BENCH_BODY")
local key = os.getenv("BENCH_KEY")
local first = tonumber(os.getenv("BENCH_FIRST") or "0")

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if key and key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
  end
end

function request()
  counter = counter + 1
  -- NANP numbers +1 212 200 0000 and up are valid; each thread has its own block.
  local number = string.format("+1212%07d", 2000000 + first + id * 1000000 + counter)
  local body = string.gsub(template, "NUMBER", number)
  return wrk.format(nil, path, nil, body)
end

done = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
