-- wrk script of bench/compare.sh, one for every HTTP target so that each
-- reports the same RESULT line. MODE (environment):
--   get      GET TARGET_PATH
--   product  POST /products, a new SKU per request (RUN_ID-thread-n)
--   restock  POST /inventory/{sku}/restock on SKU_PREFIX-k, k in [0, SKUS)
-- BEARER, when set, is sent as the bearer token.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  mode = os.getenv("MODE") or "get"
  n = 0
  math.randomseed(os.time() + id)
  local bearer = os.getenv("BEARER")
  if bearer and bearer ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. bearer
  end
  if mode ~= "get" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
  run_id = os.getenv("RUN_ID") or "run"
  skus = tonumber(os.getenv("SKUS") or "1")
  sku_prefix = os.getenv("SKU_PREFIX") or "SKU"
  path = os.getenv("TARGET_PATH") or "/"
end

function request()
  n = n + 1
  if mode == "product" then
    local sku = run_id .. "-" .. id .. "-" .. n
    local body = '{"sku":"' .. sku .. '","name":"Product ' .. sku
      .. '","price_cents":1250}'
    return wrk.format(nil, "/products", nil, body)
  elseif mode == "restock" then
    local sku = sku_prefix .. "-" .. math.random(0, skus - 1)
    return wrk.format(nil, "/inventory/" .. sku .. "/restock", nil, '{"quantity":5}')
  end
  return wrk.format(nil, path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
