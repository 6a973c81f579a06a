-- wrk script: sign agreements, each once. SIGN_FILE holds "id hash" lines;
-- the bearer token is in TOKEN. wrk's THREADS threads take disjoint lines
-- (line i goes to thread i mod THREADS), in file order.
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  token = os.getenv("TOKEN")
  local threads = tonumber(os.getenv("THREADS") or "2")
  items = {}
  local i = 0
  for line in io.lines(os.getenv("SIGN_FILE")) do
    if i % threads == tid then
      local id, hash = line:match("(%S+) (%S+)")
      table.insert(items, { id, hash })
    end
    i = i + 1
  end
  sent = 0
end

function request()
  sent = sent + 1
  local item = items[((sent - 1) % #items) + 1]
  return wrk.format("POST", "/v1/agreements/" .. item[1] .. "/signatures",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" },
    '{"content_hash":"' .. item[2] .. '"}')
end
