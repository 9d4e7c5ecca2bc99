"""`cqrskit bench`: throughput and latency of a running system, from outside.

Without URLs it starts `cqrskit run` on free ports in a temporary directory.
What it drives is the application's workload (`Application.bench`: the shop's
is in cqrskit/shop/bench.py, over its typed client); each phase runs its
clients for `seconds`; figures are measured in one run, side by side, so their
ratios mean something on a noisy machine.
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
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx

from cqrskit.core.application import BenchTarget, Workload


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


async def run_bench(
    workload: Workload,
    target: BenchTarget,
    seconds: float,
    on_phase: Callable[[Phase], None] = lambda _: None,
) -> list[Phase]:
    """The application's `workload` on `target`, phase after phase;
    `on_phase`: told of each phase as it ends."""
    done: list[Phase] = []
    async with workload(target) as phases:
        for phase in phases:
            done.append(
                await _drive(Phase(phase.name), phase.clients, seconds, phase.step)
            )
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
def embedded_system(secret: str, app: str) -> Iterator[tuple[str, str]]:
    """`cqrskit run --app app` on free ports and a temporary data directory,
    signing tokens with `secret`, with no rate limit (the bench is the load)."""
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
            *("--access-log-level", "warning"),
            *("--data-dir", data, "--app", app),
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
