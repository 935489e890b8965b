-- POST /v1/redemptions: hold and capture 1 point in one call, spread over many members.
local counter = 0
local members = {}

function init(args)
  for line in io.lines(os.getenv("BENCH_MEMBERS_FILE")) do members[#members + 1] = line end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
end

function request()
  counter = counter + 1
  local member = members[(counter % #members) + 1]
  return wrk.format("POST", "/v1/redemptions", nil,
    string.format('{"member_id":"%s","points":1,"capture":true}', member))
end
