-- wrk script: GET /v1/artisans/{id} for ids read from ids.txt, in a
-- random order, with the bearer token from the TOKEN environment variable.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/v1/artisans/" .. id, { ["Authorization"] = "Bearer " .. token })
end
