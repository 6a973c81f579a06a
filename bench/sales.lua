-- wrk script: record sales (POST /v1/partnerships/{id}/sales) with a fresh
-- Idempotency-Key per request. TOKEN, PARTNERSHIP and OCCURRED_AT come from
-- the environment.
local token = os.getenv("TOKEN")
local path = "/v1/partnerships/" .. os.getenv("PARTNERSHIP") .. "/sales"
local occurred = os.getenv("OCCURRED_AT")
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  math.randomseed(os.time() + tid)
  sent = 0
  run = tostring(os.time())
end

function request()
  sent = sent + 1
  local body = '{"amount_minor":' .. math.random(1, 100000) ..
    ',"currency":"PEN","occurred_at":"' .. occurred .. '","channel":"online","description":"bench"}'
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. run .. "-" .. tid .. "-" .. sent,
  }, body)
end
