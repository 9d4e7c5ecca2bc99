#!/usr/bin/env bash
# Every hot path of ours beside the anchors it should be measured against, in
# one run, on the production topology (PostgreSQL, Redis, RabbitMQ of the
# integration tests), driven by one C load generator (wrk).
#
#   bench/compare.sh [--seconds S] [--connections C] [--workers W] [--quick]
#                    [--reads] [--profile PREFIX] [--out FILE]
#
#   --seconds S      length of each wrk run (default 10; --quick: 2)
#   --connections C  wrk connections for every HTTP target (default: 32 for
#                    commands, 64 for reads, as in issues 8 and 9)
#   --workers W      uvicorn workers of every HTTP service, ours and the
#                    anchors alike (default 2, as in issues 8 and 9)
#   --quick          a smoke run: 2 s per target, fewer appends (and 20,000
#                    events in the pipeline instead of 200,000; long streams
#                    of 0 and 10,000 events only, fewer repetitions); the
#                    section is printed, docs/benchmarks.md is left alone
#                    (unless --out)
#   --reads          only the read rows (`GET /products/{sku}` and its anchors,
#                    the sync lag and staleness): no pgbench, stores, commands,
#                    pipeline, hot SKU or long streams; docs/benchmarks.md is
#                    left alone (unless --out)
#   --profile PREFIX also samples `POST /products` and `POST /inventory/{sku}/
#                    restock` on the command service with py-spy, each during a
#                    separate wrk run: PREFIX-post-products.txt and
#                    PREFIX-restock.txt, with their tops (bench/profile_top.py)
#                    in PREFIX-post-products-top.txt and PREFIX-restock-top.txt;
#                    and `GET /products/{sku}` on the query service:
#                    PREFIX-get-product.txt and PREFIX-get-product-top.txt
#   --out FILE       where the comparison section goes (default
#                    docs/benchmarks.md, between its markers; - for stdout)
#
# Everything a run creates is named by its run id (a PostgreSQL database, a
# Redis namespace, a RabbitMQ prefix) and removed on exit, error or Ctrl-C;
# every server is started here in a process group of its own and stopped by
# its PID. Needs wrk and pgbench (Debian packages wrk and postgresql-client);
# the `eventsourcing` library is installed into a throwaway venv (or set
# COMPARE_PEER_VENV to a venv that has `eventsourcing[postgres]`).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=$REPO/.venv/bin
PY=$BIN/python
RUN_SECONDS=10
COMMAND_CONNECTIONS=32
READ_CONNECTIONS=64
WORKERS=2
THREADS=2
QUICK=0
READS=0
PROFILE=""
OUT=$REPO/docs/benchmarks.md
APPENDS=2000
LOAD_EVENTS=10000
RESTOCK_SKUS=256
STALE_SAMPLES=200
LONG_ARGS=(--lengths 0,10000,100000)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case $1 in
        --seconds) RUN_SECONDS=$2; SECONDS_GIVEN=1; shift 2 ;;
        --connections) COMMAND_CONNECTIONS=$2; READ_CONNECTIONS=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --reads) READS=1; shift ;;
        --profile) PROFILE=$2; shift 2 ;;
        --out) OUT=$2; OUT_GIVEN=1; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    [ -n "${SECONDS_GIVEN:-}" ] || RUN_SECONDS=2
    APPENDS=200
    STALE_SAMPLES=50
    LONG_ARGS=(--lengths 0,10000 --warm 10 --cold 3)
    [ -n "${OUT_GIVEN:-}" ] || OUT=-
fi
if [ "$READS" = 1 ]; then
    [ -n "${OUT_GIVEN:-}" ] || OUT=-
fi

need() {  # need COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null && return
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "compare.sh: $1 is missing; installing the Debian package $2" >&2
        apt-get install -y -q "$2" >/dev/null
    else
        echo "compare.sh: $1 is missing: apt-get install -y $2" >&2
        exit 1
    fi
}
need wrk wrk
need pgbench postgresql-client
[ -x "$PY" ] || { echo "compare.sh: no $PY; run make .venv/.installed first" >&2; exit 1; }
if [ -n "$PROFILE" ] && [ ! -x "$BIN/py-spy" ]; then
    echo "compare.sh: installing py-spy into .venv (a bench tool)" >&2
    "$PY" -m pip install -q py-spy
fi

RUN_ID=cmp_$(date +%s)_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX")
export COMPARE_RESULTS=$WORK/results.jsonl
SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
PIDS=()
STORAGE=0

stop() {  # stop PID: SIGTERM, then its whole process group if it lingers
    local pid=$1 waited=0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 300 ]; do
        sleep 0.1; waited=$((waited + 1))
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local left=()
    for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || left+=("$p"); done
    PIDS=("${left[@]+"${left[@]}"}")
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [ -z "$CHILD" ] || kill -TERM "$CHILD" 2>/dev/null || true
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop "$pid"; done
    [ "$STORAGE" = 0 ] || "$PY" "$REPO/bench/compare.py" teardown "$RUN_ID" || true
    if [ $status -ne 0 ]; then
        echo "compare.sh: failed (status $status); server logs:" >&2
        tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CHILD=""
step() {  # step COMMAND...: in the background, waited for, so that a signal
    # to this script is acted on at once (bash defers it while a foreground
    # child runs); cleanup stops the child too
    "$@" &
    CHILD=$!
    wait "$CHILD"
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

LAST_PID=""
start() {  # start NAME COMMAND...: in a process group of its own; sets LAST_PID
    local name=$1; shift
    setsid "$@" >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

measure() {  # measure KEY SETUP URL MODE CONNECTIONS [VAR=VALUE...]
    local key=$1 setup=$2 url=$3 mode=$4 connections=$5; shift 5
    local cmd=(wrk "-t$THREADS" "-c$connections" "-d${RUN_SECONDS}s" --timeout 10s
               -s bench/compare.lua "$url")
    # As the docs show it: no token, no port of this run.
    local shown="MODE=$mode $* ${cmd[*]}"
    shown=${shown//$TOKEN/…}; shown=${shown//$url/http://127.0.0.1:PORT}
    shown=${shown//$RUN_ID/…}
    echo "compare.sh: $key: $shown" >&2
    step env -C "$REPO" MODE="$mode" RUN_ID="$RUN_ID" "$@" "${cmd[@]}" >"$WORK/$key.out"
    "$PY" "$REPO/bench/compare.py" record "$key" "$setup" "$shown" \
        <"$WORK/$key.out" >/dev/null
}

anchor() {  # anchor NAME KEY SETUP PATH MODE CONNECTIONS: PATH answers 200 when up
    local name=$1 key=$2 setup=$3 path=$4; shift 4
    local port; port=$(free_port)
    start "$name" env "${ANCHOR_ENV[@]}" "$PY" "$REPO/bench/compare_apps.py" "$name" \
        --port "$port" --workers "$WORKERS"
    local pid=$LAST_PID
    step "$PY" "$REPO/bench/compare.py" wait "http://127.0.0.1:$port$path"
    if [ "$1" = get ]; then set -- "$@" TARGET_PATH="$path"; fi
    measure "$key" "$setup" "http://127.0.0.1:$port" "$@"
    stop "$pid"
}

cqrskit() {  # cqrskit NAME ARGS...: a cqrskit role on this run's storage
    local name=$1; shift
    start "$name" env "${OURS_ENV[@]}" "$BIN/cqrskit" "$@"
}

profile() {  # profile NAME WHAT PID URL CONNECTIONS VAR=VALUE...: py-spy of the
    # service PID under a separate wrk run: $PROFILE-NAME.txt and its top,
    # $PROFILE-NAME-top.txt
    local name=$1 what=$2 pid=$3 url=$4 connections=$5; shift 5
    echo "compare.sh: profiling $what with py-spy" >&2
    (cd "$REPO" && env RUN_ID="${RUN_ID}p" BEARER="$TOKEN" "$@" \
        wrk "-t$THREADS" "-c$connections" "-d${RUN_SECONDS}s" --timeout 10s \
        -s bench/compare.lua "$url" >"$WORK/profile-wrk.out") &
    LOAD=$!
    CHILD=$LOAD
    "$BIN/py-spy" record --pid "$pid" --subprocesses --nonblocking \
        --duration "$RUN_SECONDS" --format raw --output "$PROFILE-$name.txt" \
        >"$WORK/py-spy.log" 2>&1 || echo "compare.sh: py-spy failed: $(tail -1 "$WORK/py-spy.log")" >&2
    wait "$LOAD"
    [ ! -s "$PROFILE-$name.txt" ] || \
        "$PY" "$REPO/bench/profile_top.py" "$PROFILE-$name.txt" --top 25 \
        | tee "$PROFILE-$name-top.txt"
}

# -- storage of this run ------------------------------------------------------
STORAGE=1
"$PY" "$REPO/bench/compare.py" setup "$RUN_ID"
DB_URL=$("$PY" -c "import sys; sys.path.insert(0, '$REPO/bench'); import compare; print(compare.database_url('$RUN_ID'))")
HOT_DB=$("$PY" -c "import sys; sys.path.insert(0, '$REPO/bench'); import compare; print(compare.hot_database('$RUN_ID'))")
HOT_CARTS=$((1000 + RUN_SECONDS * 800))  # per scenario; a cart per order
REDIS_URL=${CQRSKIT_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
AMQP_URL=${CQRSKIT_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
TOKEN=$("$PY" "$REPO/bench/compare.py" token "$SECRET")
ANCHOR_ENV=(ANCHOR_DATABASE_URL="$DB_URL" ANCHOR_TABLE=anchor_events
            ANCHOR_REDIS_URL="$REDIS_URL" ANCHOR_REDIS_KEY="$RUN_ID:anchor")
OURS_ENV=(CQRSKIT_EVENT_STORE_URL="$DB_URL" CQRSKIT_AUTH_SECRET="$SECRET"
          CQRSKIT_RATE_LIMIT=0
          CQRSKIT_READ_STORE_URL="$REDIS_URL?namespace=$RUN_ID"
          CQRSKIT_BROKER_URL="$AMQP_URL?prefix=$RUN_ID")
W="$WORKERS workers"

if [ "$READS" = 0 ]; then
# -- the database's ceiling: pgbench, a one-row INSERT of an event row --------
cat >"$WORK/insert.sql" <<'SQL'
INSERT INTO anchor_events (stream_id, version, type, schema_version, data, metadata, recorded_at)
VALUES ('pgbench-' || gen_random_uuid(), 1, 'ProductAdded', 1,
        '{"sku": "PGBENCH", "name": "Product", "price_cents": 1250}', '{"actor": "pgbench"}', now());
SQL
for clients in 1 32; do
    jobs=$(( clients < THREADS ? clients : THREADS ))
    cmd=(pgbench -n -f "$WORK/insert.sql" -c "$clients" -j "$jobs" -T "$RUN_SECONDS")
    echo "compare.sh: pgbench_$clients: ${cmd[*]}" >&2
    step "${cmd[@]}" "$DB_URL" >"$WORK/pgbench.out" 2>&1
    "$PY" "$REPO/bench/compare.py" record "pgbench_$clients" "$clients clients" \
        "pgbench -n -f insert.sql -c $clients -j $jobs -T $RUN_SECONDS" \
        <"$WORK/pgbench.out" >/dev/null
done

# -- event stores in process: ours and the eventsourcing library --------------
step "$PY" "$REPO/bench/compare.py" store "$RUN_ID" "$APPENDS" "$LOAD_EVENTS" >/dev/null
PEER_PY=""
if [ -n "${COMPARE_PEER_VENV:-}" ]; then
    PEER_PY=$COMPARE_PEER_VENV/bin/python
elif python3 -m venv "$WORK/peer" && \
        "$WORK/peer/bin/python" -m pip install -q 'eventsourcing[postgres]>=9.5' >"$WORK/peer.log" 2>&1; then
    PEER_PY=$WORK/peer/bin/python
else
    echo "compare.sh: could not install eventsourcing; its rows stay empty" >&2
fi
if [ -n "$PEER_PY" ]; then
    step "$PEER_PY" "$REPO/bench/peer_eventsourcing.py" --dsn "$DB_URL" \
        --appends "$APPENDS" --events "$LOAD_EVENTS" >>"$COMPARE_RESULTS"
fi
fi

# -- bare anchors (uvloop, httptools, the same workers) -----------------------
anchor fastapi_constant fastapi_constant "FastAPI, $W" / get "$READ_CONNECTIONS"
anchor starlette_constant starlette_constant "Starlette, $W" / get "$READ_CONNECTIONS"
if [ "$READS" = 0 ]; then
anchor fastapi_insert anchor_insert "FastAPI + asyncpg pool of 10, $W" /docs \
    product "$COMMAND_CONNECTIONS"
fi

# -- ours: the command service ------------------------------------------------
port=$(free_port); COMMAND_URL=http://127.0.0.1:$port
cqrskit command serve command --port "$port" --workers "$WORKERS"
COMMAND_PID=$LAST_PID
step "$PY" "$REPO/bench/compare.py" wait "$COMMAND_URL/readyz"
step "$PY" "$REPO/bench/compare.py" seed "$COMMAND_URL" "$TOKEN" RESTOCK "$RESTOCK_SKUS"
step "$PY" "$REPO/bench/compare.py" seed "$COMMAND_URL" "$TOKEN" READ 1
if [ "$READS" = 0 ]; then
measure ours_post_products "cqrskit serve command, $W, PostgreSQL" "$COMMAND_URL" \
    product "$COMMAND_CONNECTIONS" BEARER="$TOKEN"
measure ours_restock "cqrskit serve command, $W, $RESTOCK_SKUS SKUs at random" \
    "$COMMAND_URL" restock "$COMMAND_CONNECTIONS" BEARER="$TOKEN" \
    SKU_PREFIX=RESTOCK SKUS="$RESTOCK_SKUS"

# -- ours: the same command service with traces on ----------------------------
# Every span goes through the SDK's batch processor to a file (the jsonl
# exporter): the cost of tracing every request, beside the row above.
port=$(free_port); TRACED_URL=http://127.0.0.1:$port
start command_traced env "${OURS_ENV[@]}" OTEL_TRACES_EXPORTER=jsonl \
    CQRSKIT_TRACES_FILE="$WORK/traces.jsonl" \
    "$BIN/cqrskit" serve command --port "$port" --workers "$WORKERS"
TRACED_PID=$LAST_PID
step "$PY" "$REPO/bench/compare.py" wait "$TRACED_URL/readyz"
measure ours_post_products_traced \
    "cqrskit serve command, $W, PostgreSQL, OTEL_TRACES_EXPORTER=jsonl" \
    "$TRACED_URL" product "$COMMAND_CONNECTIONS" BEARER="$TOKEN" RUN_ID="${RUN_ID}t"
stop "$TRACED_PID"

if [ -n "$PROFILE" ]; then
    profile post-products "POST /products" "$COMMAND_PID" "$COMMAND_URL" \
        "$COMMAND_CONNECTIONS" MODE=product
    profile restock "POST /inventory/{sku}/restock" "$COMMAND_PID" "$COMMAND_URL" \
        "$COMMAND_CONNECTIONS" MODE=restock \
        SKU_PREFIX=RESTOCK SKUS="$RESTOCK_SKUS"
fi
fi

# -- ours: the read side (relay, 2 projectors, query service) -----------------
port=$(free_port); cqrskit relay relay --port "$port"; RELAY_PID=$LAST_PID
step "$PY" "$REPO/bench/compare.py" wait "http://127.0.0.1:$port/healthz"
STAGE_METRICS=("http://127.0.0.1:$port/metrics")
PROJECTOR_PIDS=()
for n in 1 2; do
    port=$(free_port); cqrskit "projector$n" project --port "$port" --name "compare-$n"
    PROJECTOR_PIDS+=("$LAST_PID")
    step "$PY" "$REPO/bench/compare.py" wait "http://127.0.0.1:$port/healthz"
    STAGE_METRICS+=("http://127.0.0.1:$port/metrics")
done
port=$(free_port); QUERY_URL=http://127.0.0.1:$port
cqrskit query serve query --port "$port" --workers "$WORKERS"
QUERY_PID=$LAST_PID
step "$PY" "$REPO/bench/compare.py" wait "$QUERY_URL/readyz"
STAGE_METRICS+=("$QUERY_URL/metrics")  # applied → visible (one worker answers)
step "$PY" "$REPO/bench/compare.py" anchor-key "$QUERY_URL" READ-0 "$RUN_ID"
cmd=("$BIN/cqrskit" bench --command-url "$COMMAND_URL" --query-url "$QUERY_URL"
     --seconds "$RUN_SECONDS" --concurrency 16)
echo "compare.sh: sync lag: cqrskit bench" >&2
# the stage histograms of the relay, projectors and query service over the lag phase
step "$PY" "$REPO/bench/sync_stages.py" "${STAGE_METRICS[@]}" -- \
    "${cmd[@]}" --token "$TOKEN" >"$WORK/lag.out" 2>"$WORK/stages.log"
"$PY" "$REPO/bench/compare.py" record sync_lag \
    "cqrskit bench, 16 clients, relay + 2 projectors" \
    "cqrskit bench --seconds $RUN_SECONDS --concurrency 16" <"$WORK/lag.out" >/dev/null
for pid in "$RELAY_PID" "${PROJECTOR_PIDS[@]}" "$COMMAND_PID"; do stop "$pid"; done
measure ours_get_product "cqrskit serve query, $W, Redis" "$QUERY_URL" get \
    "$READ_CONNECTIONS" TARGET_PATH=/products/READ-0
if [ -n "$PROFILE" ]; then
    profile get-product "GET /products/{sku}" "$QUERY_PID" "$QUERY_URL" \
        "$READ_CONNECTIONS" MODE=get TARGET_PATH=/products/READ-0
fi
cmd=(bench/staleness.py QUERY_URL READ_STORE_URL --samples "$STALE_SAMPLES")
echo "compare.sh: staleness: ${cmd[*]}" >&2
step "$PY" "$REPO/bench/staleness.py" "$QUERY_URL" "$REDIS_URL?namespace=$RUN_ID" \
    --samples "$STALE_SAMPLES" >"$WORK/staleness.out"
"$PY" "$REPO/bench/compare.py" record staleness "cqrskit serve query, $W, Redis" \
    "${cmd[*]}" <"$WORK/staleness.out" >/dev/null
stop "$QUERY_PID"
anchor fastapi_redis_get anchor_redis_get "FastAPI + redis.asyncio, $W" \
    /products/READ-0 get "$READ_CONNECTIONS"

if [ "$READS" = 0 ]; then
# -- ours: relay → RabbitMQ → 1, 2, 4 projectors → Redis, and cqrskit rebuild --
# (bench/pipeline.py: a scratch database, namespace and prefix of its own; it
# starts and stops its processes, and writes its result lines itself)
echo "compare.sh: pipeline: bench/pipeline.py$([ "$QUICK" = 1 ] && echo ' --quick')" >&2
step "$PY" "$REPO/bench/pipeline.py" $([ "$QUICK" = 1 ] && echo --quick) \
    >"$WORK/pipeline.log" 2>&1 || { cat "$WORK/pipeline.log" >&2; exit 1; }
grep -v '^{' "$WORK/pipeline.log" >&2 || true

# -- ours: one hot SKU against spread SKUs, and commands on long streams -------
# (bench/hot_sku.py: its own command service, one worker so that its /metrics
# counts every conflict retry, on a scratch database that teardown drops too;
# bench/long_streams.py: in process, in a schema of this run's database)
HOT_ARGS=(--seconds "$RUN_SECONDS" --connections "$COMMAND_CONNECTIONS" --workers 1
          --carts "$HOT_CARTS")
echo "compare.sh: hot SKU: bench/hot_sku.py ${HOT_ARGS[*]}" >&2
step "$PY" "$REPO/bench/hot_sku.py" --dsn "$DB_URL" --database "$HOT_DB" \
    "${HOT_ARGS[@]}" >"$WORK/hot_sku.log" 2>&1  # with its service's log lines
grep -v '^{' "$WORK/hot_sku.log" >&2 || true
echo "compare.sh: long streams: bench/long_streams.py ${LONG_ARGS[*]}" >&2
step "$PY" "$REPO/bench/long_streams.py" --dsn "$DB_URL" "${LONG_ARGS[@]}" \
    >"$WORK/long_streams.log"
fi

# -- the table ----------------------------------------------------------------
"$PY" "$REPO/bench/compare_report.py" "$COMPARE_RESULTS" --out "$OUT" \
    --command "bench/compare.sh --seconds $RUN_SECONDS --workers $WORKERS$([ "$QUICK" = 1 ] && echo ' --quick')$([ "$READS" = 1 ] && echo ' --reads')" \
    --workers "$WORKERS" --seconds "$RUN_SECONDS"
