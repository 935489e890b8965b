-- POST /v1/orders with fresh order ids; one post in ten re-sends the previous order, the way
-- a storefront retries after a timeout, so the run also shows retries never award twice.
local counter = 0
local members = {}
local thread_tag = "t"

-- Each wrk run names its orders apart (BENCH_RUN): wrk seeds Lua's random numbers the same way every
-- time, so a second run would otherwise re-send the first one's order ids and award nothing.
local threads_made = 0

function setup(thread)
  threads_made = threads_made + 1
  thread:set("tag", (os.getenv("BENCH_RUN") or "run") .. "-" .. threads_made)
end

function init(args)
  thread_tag = tag or "t"
  for line in io.lines(os.getenv("BENCH_MEMBERS_FILE")) do members[#members + 1] = line end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
end

local n = 0

function request()
  counter = counter + 1
  if counter % 10 ~= 0 then n = n + 1 end
  local member = members[(n % #members) + 1]
  local body = string.format(
    '{"order_id":"b-%s-%d","member_id":"%s","placed_at":"2026-11-01T10:00:00+00:00","channel":"online",' ..
    '"items":[{"sku":"tea-%d","category":"tea","quantity":1,"unit_price":"%d.50"}]}',
    thread_tag, n, member, n % 50, 10 + n % 90)
  return wrk.format("POST", "/v1/orders", nil, body)
end
