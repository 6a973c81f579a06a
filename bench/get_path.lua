-- wrk script: GET the path in BENCH_PATH with the bearer token in TOKEN.
local token = os.getenv("TOKEN")
local path = os.getenv("BENCH_PATH")
request = function()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
