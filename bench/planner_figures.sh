#!/usr/bin/env bash
# Re-measures the planner's PostgreSQL read and monolith read ceilings
# (src/cqrskit/runtime/planning/figures.toml) and prints them as TOML entries.
#   bench/planner_figures.sh [--seconds S]
# On a scratch database of its own, dropped afterwards; run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=10
[ "${1:-}" = "--seconds" ] && SECONDS_PER_RUN=$2
PG=${CQRSKIT_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}
DB="planner_$$"
BASE="${PG%/*}"
PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill -INT "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  psql "$BASE/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
}
trap cleanup EXIT
psql "$BASE/postgres" -qc "CREATE DATABASE $DB"

# PostgreSQL: one-row primary-key SELECTs, prepared, 8 clients.
pgbench -q -i -s 10 "$BASE/$DB" >/dev/null 2>&1
tps=$(pgbench -S -M prepared -c8 -j2 -T "$SECONDS_PER_RUN" "$BASE/$DB" 2>/dev/null \
  | awk '/^tps/ {print int($3); exit}')

# The monolith: GET /products/{sku}, one worker, wrk -t2 -c32.
.venv/bin/python -m baselines.crud --port "$PORT" --database-url "$BASE/$DB" --workers 1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/products" >/dev/null && break; sleep 0.1; done
curl -sf -X POST "127.0.0.1:$PORT/products" -H 'Content-Type: application/json' \
  -d '{"sku": "MUG-01", "name": "Mug", "price_cents": 1250}' >/dev/null
rps=$(wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$PORT/products/MUG-01" \
  | awk '/Requests\/sec/ {print int($2)}')
load=$(cut -d' ' -f1 /proc/loadavg)
today=$(date -u +%F)

cat <<TOML
[postgres_reads_per_s]
value = $tps
source = "bench/planner_figures.sh: pgbench -S -M prepared -c8 -j2 -T$SECONDS_PER_RUN (one-row primary-key SELECTs), $today, load average $load on $(nproc) cores"

[monolith_reads_per_s]
value = $rps
source = "bench/planner_figures.sh: wrk -t2 -c32 -d${SECONDS_PER_RUN}s GET /products/{sku} on python -m baselines.crud --workers 1, $today, load average $load on $(nproc) cores"
TOML
