-- wrk script: one side of a paced read:write mix on the shop's routes.
-- KIND=read: GET /products/{sku} (6 in 10), GET /carts/{id} (2 in 10) and
-- GET /customers/{id}/orders (2 in 10). KIND=write: POST /carts/{id}/items
-- (3 in 4) and POST /orders on a cart of its own (1 in 4, while they last).
-- RATE (requests/s for the whole run) over CONNECTIONS paces each
-- connection with delay(), so the load offered is RATE until the system
-- falls behind. SKUS, CARTS and ORDER_CARTS name files of ids, one a line;
-- thread k of WRK_THREADS takes every n-th order cart from line k.
local counter, threads = 0, {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local function lines(path, every, offset)
  local out, k = {}, 0
  for line in io.lines(path) do
    if every == nil or k % every == offset then table.insert(out, line) end
    k = k + 1
  end
  return out
end

function init(args)
  local n = tonumber(os.getenv("WRK_THREADS") or "1")
  kind = os.getenv("KIND") or "read"
  pause_ms = 1000 * tonumber(os.getenv("CONNECTIONS")) / tonumber(os.getenv("RATE"))
  skus = lines(os.getenv("SKUS"))
  carts = lines(os.getenv("CARTS"))
  order_carts = lines(os.getenv("ORDER_CARTS"), n, id)
  next_order, sent, ok, failed = 1, 0, 0, 0
  math.randomseed(id + 1)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BEARER")
end

local function pick(list) return list[math.random(#list)] end

function delay()
  return pause_ms * (0.5 + math.random())  -- jittered, so connections do not align
end

local JSON = {  -- wrk.format uses these instead of wrk.headers
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. (os.getenv("BEARER") or ""),
}
local CARD = '"payment":{"card_number":"4242424242424242","expiry":"12/2099","cvc":"123"}'

function request()
  sent = sent + 1
  if kind == "write" then
    if sent % 4 == 0 and next_order <= #order_carts then
      local cart = order_carts[next_order]
      next_order = next_order + 1
      return wrk.format("POST", "/orders", JSON, '{"cart_id":"' .. cart .. '",' .. CARD .. '}')
    end
    return wrk.format("POST", "/carts/" .. pick(carts) .. "/items", JSON,
      '{"sku":"' .. pick(skus) .. '","quantity":1}')
  end
  local roll = math.random(10)
  if roll <= 6 then return wrk.format("GET", "/products/" .. pick(skus)) end
  if roll <= 8 then return wrk.format("GET", "/carts/" .. pick(carts)) end
  return wrk.format("GET", "/customers/shopper-" .. math.random(10) .. "/orders")
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else failed = failed + 1 end
end

function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, t in ipairs(threads) do good = good + t:get("ok"); bad = bad + t:get("failed") end
  io.write(string.format("RESULT seconds=%.3f ok=%d failed=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.duration / 1e6, good, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
