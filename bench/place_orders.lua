-- wrk script: POST /orders, each request with a cart of its own.
-- The cart ids come from the file named by the CARTS environment variable,
-- one a line; thread k of n takes lines k, k+n, k+2n, ...
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local n = tonumber(os.getenv("WRK_THREADS") or "1")
  carts = {}
  local k = 0
  for line in io.lines(os.getenv("CARTS")) do
    if k % n == id then table.insert(carts, line) end
    k = k + 1
  end
  next_cart = 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BEARER")
end

function request()
  local cart = carts[next_cart]
  if cart == nil then cart = "out-of-carts" end
  next_cart = next_cart + 1
  local body = '{"cart_id":"' .. cart .. '","payment":{"card_number":'
    .. '"4242424242424242","expiry":"12/2099","cvc":"123"}}'
  return wrk.format(nil, "/orders", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f errors_status=%d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status))
end
