"""Orders per second when every client orders the same SKU, against each
client ordering a SKU of its own, through the HTTP command service.

    .venv/bin/python bench/hot_sku.py [--dsn DSN] [--database NAME] [--seconds S]
        [--connections C] [--threads T] [--carts N] [--workers W] [--profile PREFIX]

Creates a fresh PostgreSQL database (NAME, or a new name), starts `cqrskit
serve command` on a free port on it, and seeds (straight through the event
store, in multi-row appends) 33 products with ample stock and, per scenario, N
carts of one unit each: in `hot` every cart holds the SKU HOT, in `spread`
cart k holds SKU SPREAD-(k mod C). `wrk` (install it with `apt-get install -y
wrk`) then places orders with C connections for S seconds, each request with a
cart of its own (bench/place_orders.lua reads their ids from a file). Reported
per scenario: orders/s (2xx answers only), p50/p99 latency, non-2xx answers,
and conflict retries per order (from the service's /metrics before and after;
only with one worker, as with several /metrics is whichever worker answers).
The service and the database are removed at the end. `--profile PREFIX` also
samples the service with py-spy (in the venv: `pip install py-spy`) during
each run. With $COMPARE_RESULTS set, the figures also go there as one JSON
line (bench/compare.sh runs it; bench/compare_report.py renders the line).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).parent))
import compare

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.pyjwt import mint
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.messages import Metadata, StreamAppend
from cqrskit.runtime.bootstrap import command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.domain import cart as c
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain.catalog import AddProduct
from cqrskit.shop.domain.events import shop_codec

DEFAULT_DSN = os.environ.get(
    "CQRSKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
LUA = Path(__file__).with_name("place_orders.lua")
SEED_CARTS_PER_APPEND = 500
PY_SPY = str(Path(sys.executable).with_name("py-spy"))
SECRET = secrets.token_urlsafe(48)
"""The service's token key for this run; wrk sends an admin's token."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


def ctx() -> CommandContext:
    return CommandContext(command_id=uuid.uuid4().hex, correlation_id="seed")


async def seed(url: str, skus: list[str], carts: dict[str, list[str]]) -> None:
    """Products and stock through the command side; carts straight in."""
    store = await PostgresEventStore.open(url)
    try:
        commands = command_side(SHOP, store).commands
        for sku in skus:
            await commands.catalog(ctx(), AddProduct(sku, f"P {sku}", 500), sku=sku)
            await commands.restock(ctx(), i.Restock(sku, 10_000_000))
        codec = shop_codec()
        appends = [
            StreamAppend(
                c.cart_stream(cart),
                0,
                [
                    codec.encode(c.CartCreated(cart, f"customer-{cart}")),
                    codec.encode(c.ItemAdded(cart, sku, 1, f"P {sku}", 500)),
                ],
            )
            for sku, ids in carts.items()
            for cart in ids
        ]
        for start in range(0, len(appends), SEED_CARTS_PER_APPEND):
            chunk = appends[start : start + SEED_CARTS_PER_APPEND]
            await store.append(chunk, metadata=Metadata())
    finally:
        await store.close()


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def counters(base: str) -> tuple[float, float]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    placed = metric(
        text, "cqrskit_commands_total", '{command="PlaceOrder",outcome="ok"}'
    )
    return placed, metric(text, "cqrskit_command_conflict_retries_total")


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the command service exited while starting")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the command service was not ready in {timeout} s")


def profile(
    args: argparse.Namespace, pid: int, name: str
) -> subprocess.Popen[bytes] | None:
    """py-spy over the service while wrk drives it: collapsed stacks in
    PREFIX-NAME.txt (summarise them with bench/profile_top.py)."""
    if not args.profile:
        return None
    return subprocess.Popen(
        [PY_SPY, "record", "--pid", str(pid), "--duration", str(args.seconds),
         "--format", "raw", "--output", f"{args.profile}-{name}.txt", "--nonblocking"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def drive(
    args: argparse.Namespace, base: str, pid: int, name: str, carts: list[str]
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(carts) + "\n")
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
        "--timeout", "10s", "-s", str(LUA), base,
    ]  # fmt: skip
    env = os.environ | {"CARTS": f.name, "WRK_THREADS": str(args.threads)}
    env["BEARER"] = mint(SECRET, "bench", ["admin"], 3600)
    before = counters(base)
    profiler = profile(args, pid, name)
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    if profiler is not None:
        profiler.wait(args.seconds + 30)
    after = counters(base)
    os.unlink(f.name)
    found = re.search(r"^RESULT (.*)$", out.stdout, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk said:\n{out.stdout}\n{out.stderr}")
    result = {k: float(v) for k, v in (p.split("=") for p in found.group(1).split())}
    # 2xx answers by wrk's count; retries per order by the service's own
    # (with several workers /metrics is whichever worker answers: not shown).
    result["placed"] = result["requests"] - result["errors_status"]
    placed = after[0] - before[0]
    retries = (after[1] - before[1]) / placed if placed else 0
    result["retries_per_order"] = retries if args.workers == 1 else float("nan")
    result["wrk"] = " ".join(command)  # type: ignore[assignment]
    return result


def run(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    database = args.database or f"cqrskit_bench_{uuid.uuid4().hex[:10]}"
    url = with_database(args.dsn, database)
    spread = [f"SPREAD-{k}" for k in range(args.connections)]
    carts = {
        "hot": [f"hot-{n}" for n in range(args.carts)],
        "spread": [f"spread-{n}" for n in range(args.carts)],
    }
    by_sku: dict[str, list[str]] = {"HOT": carts["hot"]}
    for n, cart in enumerate(carts["spread"]):
        by_sku.setdefault(spread[n % len(spread)], []).append(cart)
    asyncio.run(admin(args.dsn, f'CREATE DATABASE "{database}"'))
    server = None
    try:
        asyncio.run(seed(url, ["HOT", *spread], by_sku))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "cqrskit.entrypoints.cli", "serve", "command",
             "--port", str(port), "--workers", str(args.workers)],
            env=os.environ | {"CQRSKIT_EVENT_STORE_URL": url,
                              "CQRSKIT_AUTH_SECRET": SECRET, "CQRSKIT_RATE_LIMIT": "0"},
        )  # fmt: skip
        wait_ready(base, server, 60)
        results = {
            name: drive(args, base, server.pid, name, carts[name])
            for name in ("spread", "hot")
        }
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        asyncio.run(admin(args.dsn, f'DROP DATABASE IF EXISTS "{database}"'))
    report(args, results)
    if os.environ.get("COMPARE_RESULTS"):
        compare.emit(result_line(args, results))


async def admin(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> None:
    print("| scenario | orders/s | p50 ms | p99 ms | non-2xx | retries/order |")
    print("|---|---:|---:|---:|---:|---:|")
    rate = {}
    for name, r in results.items():
        rate[name] = r["placed"] / r["seconds"]
        print(
            f"| {name} | {rate[name]:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f}"
            f" | {r['errors_status']:.0f} | {r['retries_per_order']:.3f} |"
        )
    print(f"\nhot / spread: {rate['hot'] / rate['spread']:.2f}")
    print(f"\ncommand: {' '.join(sys.argv)}")
    print(f"load: {results['hot']['wrk']}  (workers: {args.workers})")


def result_line(
    args: argparse.Namespace, results: dict[str, dict[str, float]]
) -> dict[str, object]:
    """The run's figures for bench/compare_report.py."""
    scenarios = {
        name: {
            "per_s": r["placed"] / r["seconds"],
            "p50_ms": r["p50_ms"],
            "p99_ms": r["p99_ms"],
            "errors": r["errors_status"],
            "retries_per_order": None
            if math.isnan(r["retries_per_order"])
            else r["retries_per_order"],
        }
        for name, r in results.items()
    }
    spread = scenarios["spread"]["per_s"]
    return {
        "key": "hot_sku",
        "setup": f"cqrskit serve command, {args.workers} worker"
        f"{'s' if args.workers > 1 else ''}, PostgreSQL, wrk -c{args.connections}",
        "command": compare.shown(sys.argv),
        **scenarios,
        "ratio": scenarios["hot"]["per_s"] / spread if spread else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN, help="any database to admin from")
    parser.add_argument(
        "--database", help="the scratch database's name (default: a new one)"
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--carts", type=int, default=8000, help="per scenario")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--profile", metavar="PREFIX", help="record py-spy profiles to PREFIX-*.txt"
    )
    # compare.sh stops its steps with SIGTERM: stop the service, drop the database
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run(parser.parse_args())


if __name__ == "__main__":
    main()
