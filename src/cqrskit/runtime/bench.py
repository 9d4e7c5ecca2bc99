"""`cqrskit bench`: throughput and latency of a running system, from outside.

Without URLs it starts `cqrskit run` on free ports in a temporary directory.
Each phase runs `concurrency` clients for `seconds`; figures are measured in
one run, side by side, so their ratios mean something on a noisy machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx

SKUS = [f"BENCH-{n:02d}" for n in range(20)]
CARD = {"card_number": "4242424242424242", "expiry": "12/39", "cvc": "123"}


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def row(self) -> str:
        count = len(self.latencies)
        if not count:
            return f"{self.name:<28} {'-':>10} {'-':>9} {'-':>9} {self.errors:>7}"
        ms = sorted(x * 1000 for x in self.latencies)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        rate = count / self.seconds
        median = statistics.median(ms)
        figures = f"{rate:>10,.0f} {median:>9.1f} {p99:>9.1f} {self.errors:>7}"
        return f"{self.name:<28} {figures}"


Step = Callable[[], Awaitable[bool | float]]
"""One request or chain: whether it succeeded (timed whole), or the seconds
its timed part took (a chain that times only its part after a first answer)."""


async def _drive(phase: Phase, concurrency: int, seconds: float, step: Step) -> Phase:
    deadline = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            outcome = await step()
            if outcome is False:
                phase.errors += 1
            elif outcome is True:
                phase.latencies.append(time.perf_counter() - started)
            else:
                phase.latencies.append(outcome)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    phase.seconds = time.monotonic() - started
    return phase


async def _setup(cmd: httpx.AsyncClient) -> None:
    for sku in SKUS:
        body = {"sku": sku, "name": f"Bench {sku}", "price_cents": 100}
        await cmd.post("/products", json=body, headers={"Idempotency-Key": f"b-{sku}"})
        await cmd.post(f"/inventory/{sku}/restock", json={"quantity": 1_000_000})


class _Steps:
    """One request (or chain) per phase; each says whether it succeeded."""

    def __init__(self, cmd: httpx.AsyncClient, qry: httpx.AsyncClient) -> None:
        self.cmd, self.qry = cmd, qry
        self.n = iter(range(10**9))

    def sku(self) -> str:
        return SKUS[next(self.n) % 20]

    async def _cart_with_item(self) -> tuple[str, httpx.Response]:
        cart = f"bench-{uuid.uuid4().hex[:12]}"
        await self.cmd.post("/carts", json={"customer_id": "bench", "cart_id": cart})
        item = {"sku": self.sku(), "quantity": 1}
        return cart, await self.cmd.post(f"/carts/{cart}/items", json=item)

    async def add_item(self) -> bool:
        _, answer = await self._cart_with_item()
        return answer.status_code == 202

    async def read_product(self) -> bool:
        answer = await self.qry.get(f"/products/{self.sku()}")
        return answer.status_code == 200

    async def place_order(self) -> bool:
        cart, _ = await self._cart_with_item()
        body = {"cart_id": cart, "payment": CARD}
        answer = await self.cmd.post("/orders", json=body)
        return answer.status_code == 201

    async def write_then_read(self) -> bool | float:
        """The sync lag: from the command's acknowledgement until a read shows
        its effect (the command's own round trip is not counted)."""
        sku = self.sku()
        price = 100 + next(self.n) % 1000
        ack = await self.cmd.post(f"/products/{sku}/price", json={"price_cents": price})
        if ack.status_code != 202:
            return False
        acknowledged = time.perf_counter()
        for _ in range(2000):
            answer = await self.qry.get(f"/products/{sku}")
            if answer.status_code == 200 and answer.json()["price_cents"] == price:
                return time.perf_counter() - acknowledged
            await asyncio.sleep(0.001)
        return False


async def run_bench(
    command_url: str,
    query_url: str,
    seconds: float,
    concurrency: int,
    token: str,
    on_phase: Callable[[Phase], None] = lambda _: None,
) -> list[Phase]:
    """`token`: an admin's bearer token (the bench sets up the catalog);
    `on_phase`: told of each phase as it ends."""
    limits = httpx.Limits(max_connections=concurrency * 2)
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(
            base_url=command_url, limits=limits, timeout=30, headers=auth
        ) as cmd,
        httpx.AsyncClient(
            base_url=query_url, limits=limits, timeout=30, headers=auth
        ) as qry,
    ):
        await _setup(cmd)
        steps = _Steps(cmd, qry)
        phases: list[tuple[str, int, Step]] = [
            ("query GET /products/{sku}", concurrency, steps.read_product),
            ("cart (create + add item)", concurrency, steps.add_item),
            ("order (cart, item, order)", concurrency, steps.place_order),
            ("command -> visible on read", 1, steps.write_then_read),
        ]
        done = []
        for name, clients, step in phases:
            done.append(await _drive(Phase(name), clients, seconds, step))
            on_phase(done[-1])
        return done


HEADING = f"{'phase':<28} {'per second':>10} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}"


def report(phases: list[Phase]) -> str:
    return "\n".join([HEADING, *(p.row() for p in phases)])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def embedded_system(secret: str) -> Iterator[tuple[str, str]]:
    """`cqrskit run` on free ports and a temporary data directory, signing
    tokens with `secret`, with no rate limit (the bench is the load)."""
    cport, qport = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CQRSKIT_")}
        env.update(CQRSKIT_AUTH_SECRET=secret, CQRSKIT_RATE_LIMIT="0")
        argv = [
            *(
                sys.executable,
                "-m",
                "cqrskit.entrypoints.cli",
                "--log-level",
                "warning",
            ),
            *("run", "--command-port", str(cport), "--query-port", str(qport)),
            *("--data-dir", data),
        ]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
        try:
            urls = (f"http://127.0.0.1:{cport}", f"http://127.0.0.1:{qport}")
            deadline = time.monotonic() + 30
            while not all(_healthy(u) for u in urls):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("cqrskit run did not start")
                time.sleep(0.1)
            yield urls
        finally:
            proc.terminate()
            proc.wait(30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
