-- wrk script: GET /v1/skill-matches as a random artisan each time; TOKENS_FILE
-- holds one bearer token per line, BENCH_PATH the path (with its query).
local path = os.getenv("BENCH_PATH")
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do
  if #line > 0 then table.insert(tokens, line) end
end
math.randomseed(os.time())

request = function()
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
