"""A read:write mix (100:1 by default) at rising offered load, against the
CRUD monolith or the CQRS topology, on fresh storage.

    .venv/bin/python bench/mixed_load.py --system crud|cqrs [--workers N]
        [--rates 200,400,800] [--ratio 100] [--seconds S] [--out FILE.jsonl]

`crud` starts `python -m baselines.crud --workers N`; `cqrs` starts `cqrskit
up --query-workers N` (one command service, two projectors). Both get a new
PostgreSQL database (and for cqrs a Redis namespace and a RabbitMQ prefix),
seeded over HTTP with 50 products, 200 carts and carts to order. At each
offered rate, two `wrk` processes (bench/mixed.lua) run at once, each pacing
its connections: reads (product, cart, order history) at rate x ratio /
(ratio + 1) against the query side, writes (cart items, orders) at the rest
against the command side, so each reports its own throughput and p50/p99.
Meanwhile a probe restocks one SKU every half second and times how long the
read side takes to show it (the sync lag). A level is saturated when a side
achieves under 80 % of what was offered (once it offered 50 or more). wrk
must be installed (apt-get install wrk); the client shares the machine's
cores, so figures from a busy machine say little.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from cqrskit.adapters.pyjwt import mint
from cqrskit.adapters.rabbitmq import drop_topology
from cqrskit.adapters.redis import RedisReadStore

REPO = Path(__file__).resolve().parents[1]
LUA = Path(__file__).with_name("mixed.lua")
PG = os.environ.get("CQRSKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
REDIS = os.environ.get("CQRSKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP = os.environ.get("CQRSKIT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
SECRET = uuid.uuid4().hex * 2
"""The CQRS topology's token key for this run (the CRUD baseline has no
auth); the seeding and wrk send an operator's token, so every route answers."""
BEARER = mint(SECRET, "bench", ["admin"], 24 * 3600)
PROBE = "PROBE-1"


def free_port_run(count: int) -> int:
    import socket

    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = int(s.getsockname()[1])
        if first + count < 65000:
            return first
    raise SystemExit("no free ports")


async def psql(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


class System:
    """The system under test as one child process, on storage of its own."""

    def __init__(self, kind: str, workers: int) -> None:
        self.kind, self.token = kind, f"mix{uuid.uuid4().hex[:10]}"
        first = free_port_run(8)
        self.command_url = f"http://127.0.0.1:{first}"
        self.query_url = (
            self.command_url if kind == "crud" else f"http://127.0.0.1:{first + 1}"
        )
        db = urlunsplit(urlsplit(PG)._replace(path=f"/{self.token}"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CQRSKIT_")}
        if kind == "crud":
            argv = [
                sys.executable,
                "-m",
                "baselines.crud",
                "--port",
                str(first),
                "--database-url",
                db,
                "--workers",
                str(workers),
            ]
        else:
            argv = [
                sys.executable,
                "-m",
                "cqrskit.entrypoints.cli",
                "up",
                "--command-port",
                str(first),
                "--query-port",
                str(first + 1),
                "--first-worker-port",
                str(first + 2),
                "--query-workers",
                str(workers),
                "--projectors",
                "2",
            ]
            env |= {
                "CQRSKIT_AUTH_SECRET": SECRET,
                "CQRSKIT_RATE_LIMIT": "0",
                "CQRSKIT_EVENT_STORE_URL": db,
                "CQRSKIT_READ_STORE_URL": f"{REDIS}?namespace={self.token}",
                "CQRSKIT_BROKER_URL": f"{AMQP}?prefix={self.token}",
            }
        asyncio.run(psql(f'CREATE DATABASE "{self.token}"'))
        self.log = Path(tempfile.mkstemp(prefix="mixed-", suffix=".log")[1])
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.wait_ready()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for url in {self.command_url, self.query_url}:
            while not _ready(url):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(
                        f"{self.kind} did not start:\n{self.log.read_text()}"
                    )
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        asyncio.run(psql(f'DROP DATABASE IF EXISTS "{self.token}" WITH (FORCE)'))
        if self.kind == "cqrs":
            asyncio.run(_drop_read_side(self.token))


async def _drop_read_side(token: str) -> None:
    store = await RedisReadStore.open(REDIS, namespace=token)
    try:
        await store.purge()
    finally:
        await store.close()
    await drop_topology(AMQP, prefix=token)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def seed(system: System, order_carts: int, files: Path) -> dict[str, Path]:
    """50 products, 200 carts of ten shoppers, and carts to order; id files
    for the wrk script."""
    skus = [f"MIX-{n:02d}" for n in range(50)] + [PROBE]
    carts = [f"cart-{n}" for n in range(200)]
    to_order = [f"order-cart-{n}" for n in range(order_carts)]
    limit = asyncio.Semaphore(16)
    auth = {"Authorization": f"Bearer {BEARER}"}
    async with httpx.AsyncClient(
        base_url=system.command_url, timeout=30, headers=auth
    ) as cmd:

        async def post(path: str, body: dict[str, object]) -> None:
            async with limit:
                answer = await cmd.post(path, json=body)
                if answer.status_code >= 300:
                    raise SystemExit(f"seeding {path}: {answer.text}")

        await asyncio.gather(
            *(
                post("/products", {"sku": s, "name": f"Mix {s}", "price_cents": 500})
                for s in skus
            )
        )
        await asyncio.gather(
            *(post(f"/inventory/{s}/restock", {"quantity": 1_000_000}) for s in skus)
        )
        await asyncio.gather(
            *(
                post("/carts", {"customer_id": f"shopper-{n % 10 + 1}", "cart_id": c})
                for n, c in enumerate(carts + to_order)
            )
        )
        await asyncio.gather(
            *(
                post(f"/carts/{c}/items", {"sku": skus[n % 50], "quantity": 1})
                for n, c in enumerate(carts + to_order)
            )
        )
    paths = {"SKUS": skus[:50], "CARTS": carts}
    for name, ids in paths.items():
        (files / name).write_text("\n".join(ids) + "\n")
    ids = {name: files / name for name in paths}
    ids["ORDER_CARTS"] = files / "ORDER_CARTS"
    (files / "unused").write_text("\n".join(to_order) + "\n")
    return ids


def take_order_carts(ids: dict[str, Path], count: int) -> None:
    """Hand the next `count` unused carts to this level: each is ordered once."""
    unused = ids["ORDER_CARTS"].with_name("unused")
    left = unused.read_text().split()
    ids["ORDER_CARTS"].write_text("".join(f"{cart}\n" for cart in left[:count]))
    unused.write_text("\n".join(left[count:]) + "\n")


def wrk(
    url: str, kind: str, rate: float, conns: int, seconds: int, ids: dict[str, Path]
) -> subprocess.Popen[str]:
    threads = 2 if conns > 1 else 1
    env = (
        os.environ
        | {name: str(path) for name, path in ids.items()}
        | {
            "KIND": kind,
            "RATE": str(rate),
            "CONNECTIONS": str(conns),
            "WRK_THREADS": str(threads),
            "BEARER": BEARER,
        }
    )
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{conns}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)


def result(proc: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = proc.communicate(timeout=120)
    found = re.search(r"^RESULT (.*)$", out, re.M)
    if not found:
        raise SystemExit(f"wrk said:\n{out}")
    return {k: float(v) for k, v in (p.split("=") for p in found.group(1).split())}


def probe_lag(system: System, stop: threading.Event, lags: list[float]) -> None:
    """Restock the probe SKU, then time until the read side shows it (polling
    every millisecond, as an operator's token: the CQRS side refuses anyone
    else's restock)."""
    auth = {"Authorization": f"Bearer {BEARER}"}
    with (
        httpx.Client(base_url=system.command_url, timeout=10, headers=auth) as cmd,
        httpx.Client(base_url=system.query_url, timeout=10, headers=auth) as qry,
    ):
        while not stop.wait(0.5):
            before = qry.get(f"/products/{PROBE}").json()["available"]
            start = time.monotonic()
            restocked = cmd.post(f"/inventory/{PROBE}/restock", json={"quantity": 1})
            restocked.raise_for_status()
            while qry.get(f"/products/{PROBE}").json()["available"] == before:
                if time.monotonic() - start > 10:
                    break
                time.sleep(0.001)
            lags.append(time.monotonic() - start)


def level(
    system: System, rate: float, args: argparse.Namespace, ids: dict[str, Path]
) -> dict[str, object]:
    reads_offered = rate * args.ratio / (args.ratio + 1)
    writes_offered = rate / (args.ratio + 1)
    take_order_carts(ids, int(writes_offered * args.seconds / 4 * 1.5) + 10)
    stop, lags = threading.Event(), []  # type: list[float]
    prober = threading.Thread(target=probe_lag, args=(system, stop, lags))
    prober.start()
    readers = wrk(
        system.query_url, "read", reads_offered, args.connections, args.seconds, ids
    )
    writers = wrk(
        system.command_url,
        "write",
        writes_offered,
        max(1, args.connections // 8),
        args.seconds,
        ids,
    )
    r, w = result(readers), result(writers)
    stop.set()
    prober.join()
    lags.sort()
    row = {
        "system": system.kind,
        "workers": args.workers,
        "offered": rate,
        "reads_offered": reads_offered,
        "reads_s": r["ok"] / r["seconds"],
        "read_p50_ms": r["p50_ms"],
        "read_p99_ms": r["p99_ms"],
        "writes_offered": writes_offered,
        "writes_s": w["ok"] / w["seconds"],
        "write_p50_ms": w["p50_ms"],
        "write_p99_ms": w["p99_ms"],
        "failed": r["failed"] + w["failed"],
        "lag_p50_ms": 1000 * lags[len(lags) // 2] if lags else None,
        "lag_max_ms": 1000 * lags[-1] if lags else None,
    }
    row["saturated"] = _behind(row["reads_s"], reads_offered, args.seconds) or (
        _behind(row["writes_s"], writes_offered, args.seconds)
    )
    return row


def _behind(achieved: object, offered: float, seconds: int) -> bool:
    """Under 80 % of what was offered, once enough was offered to tell."""
    enough = offered * seconds >= 50
    return enough and isinstance(achieved, float) and achieved < 0.8 * offered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", choices=["crud", "cqrs"], required=True)
    parser.add_argument("--workers", type=int, default=1, help="query workers (cqrs)")
    parser.add_argument("--rates", default="200,400,800", help="offered requests/s")
    parser.add_argument("--ratio", type=int, default=100, help="reads per write")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32, help="for reads")
    parser.add_argument("--out", type=Path, help="append a JSON line per level")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    orders = int(sum(rates) / (args.ratio + 1) * args.seconds / 4 * 1.5) + 10 * len(
        rates
    )
    system = System(args.system, args.workers)
    try:
        with tempfile.TemporaryDirectory() as files:
            ids = asyncio.run(seed(system, orders, Path(files)))
            if system.kind == "cqrs":
                time.sleep(2)  # let the read side take in the seed
            print(
                f"{'offered':>8} {'reads/s':>8} {'p50':>7} {'p99':>7} "
                f"{'writes/s':>8} {'p50':>7} {'p99':>7} {'lag p50':>8} {'failed':>6}"
            )
            for rate in rates:
                row = level(system, rate, args, ids)
                print(_line(row), flush=True)
                if args.out:
                    with args.out.open("a") as out:
                        out.write(json.dumps(row) + "\n")
    finally:
        system.stop()


COLUMNS = [
    ("offered", "8.0f"),
    ("reads_s", "8.0f"),
    ("read_p50_ms", "7.1f"),
    ("read_p99_ms", "7.1f"),
    ("writes_s", "8.1f"),
    ("write_p50_ms", "7.1f"),
    ("write_p99_ms", "7.1f"),
    ("lag_p50_ms", "8.1f"),
    ("failed", "6.0f"),
]


def _line(row: dict[str, object]) -> str:
    cells = []
    for key, spec in COLUMNS:
        value = row[key]
        width = spec.split(".")[0]
        cells.append(
            format(value, spec)
            if isinstance(value, int | float)
            else "-".rjust(int(width))
        )
    return " ".join(cells) + ("  saturated" if row["saturated"] else "")


if __name__ == "__main__":
    main()
