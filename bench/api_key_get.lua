-- wrk script: GET the path in BENCH_PATH as a partner organization, with
-- the API key in API_KEY (header X-API-Key).
local key = os.getenv("API_KEY")
local path = os.getenv("BENCH_PATH")
request = function()
  return wrk.format("GET", path, { ["X-API-Key"] = key })
end
