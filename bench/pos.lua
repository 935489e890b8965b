-- GET /v1/pos/members/<identifier>: a random card number or phone from the file, like a till.
local ids = {}

function init(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
  math.randomseed(os.time() + math.random(1, 1e6))
end

function request()
  return wrk.format("GET", "/v1/pos/members/" .. ids[math.random(1, #ids)])
end
