-- POST one fixed body (BENCH_BODY) to BENCH_PATH, or GET it when the body is
-- empty, then report as JSON.
local path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY") or ""
local key = os.getenv("BENCH_KEY")

function init(args)
  if body ~= "" then
    wrk.method = "POST"
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
  end
  if key and key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
  end
  wrk.path = path
end

done = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
