"""Pipeline and rebuild throughput on the real services, as processes.

    .venv/bin/python bench/pipeline.py [--carts C] [--items I] [--projectors 1,2,4]
        [--quick] [--profile PREFIX] [--rebuild-only]

Appends C carts of I events each (a CartCreated and I-1 ItemAdded; default
20,000 x 10 = 200,000 events) into a scratch PostgreSQL database first. Then,
for each projector count P, on a copy of that database (CREATE DATABASE ...
TEMPLATE) with a Redis namespace and a RabbitMQ prefix of its own: P
`cqrskit project` processes are started and left to share the partitions out,
then one `cqrskit relay`; the time runs from the relay's start until every
projection's applied position (`$applied:<partition>`) has reached the last
event of its partitions. Last, `cqrskit rebuild` of the same log, timed from
the process's start and by its own report (without the start).
`--rebuild-only` skips the pipeline runs: the rebuild alone, on a copy of the
log with empty views.

Two rates per pipeline run: `with start` counts from the relay's spawn;
`events/s` from the first applied position seen (the relay's start-up and its
first page are left out). `--profile PREFIX` records py-spy on the relay, the
first projector and the rebuild (PREFIX-relay-pP.txt, ...) and prints their
tops. With $COMPARE_RESULTS set, one JSON line per figure goes there too
(bench/compare_report.py renders them). Everything it creates is removed at
the end, also on error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis.asyncio as redis

sys.path.insert(0, str(Path(__file__).parent))
import compare
import lag_refresh

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.rabbitmq import drop_topology
from cqrskit.core.messages import Metadata, StreamAppend, stream_category
from cqrskit.core.progress import applied_mark
from cqrskit.core.wire import partition_for
from cqrskit.shop.app import app
from cqrskit.shop.domain.cart import CartCreated, ItemAdded
from cqrskit.shop.domain.events import shop_codec

BIN = Path(sys.executable).parent
PARTITIONS = 8
APPEND_STREAMS = 100
"""Carts per append while loading the log."""
POLL = 0.005


@dataclass(frozen=True)
class Storage:
    """One run's database, Redis namespace and RabbitMQ prefix."""

    name: str

    @property
    def env(self) -> dict[str, str]:
        return os.environ | {
            "CQRSKIT_EVENT_STORE_URL": compare.database_url(self.name),
            "CQRSKIT_READ_STORE_URL": f"{compare.REDIS}?namespace={self.name}",
            "CQRSKIT_BROKER_URL": f"{compare.AMQP}?prefix={self.name}",
            "CQRSKIT_PARTITIONS": str(PARTITIONS),
        }

    async def drop(self) -> None:
        await compare.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        await compare._drop_keys(self.name)
        await drop_topology(compare.AMQP, prefix=self.name, partitions=PARTITIONS)


async def load_log(storage: Storage, carts: int, items: int) -> dict[str, int]:
    """Append the carts; return, per (projection, partition), the position
    of the last event it has to apply there."""
    await compare.admin(f'CREATE DATABASE "{storage.name}"')
    store = await PostgresEventStore.open(compare.database_url(storage.name))
    codec, meta = shop_codec(), Metadata(command_id="pipeline-bench")
    last: dict[tuple[str, int], int] = {}
    try:
        for first in range(0, carts, APPEND_STREAMS):
            appends = []
            for n in range(first, min(first + APPEND_STREAMS, carts)):
                cart = f"c{n:07d}"
                events = [CartCreated(cart, f"customer-{n % 997}")]
                events += [
                    ItemAdded(cart, f"SKU-{k}", 1 + k % 3, f"Product {k}", 100 + k)
                    for k in range(items - 1)
                ]
                appends.append(
                    StreamAppend(f"cart-{cart}", 0, [codec.encode(e) for e in events])
                )
            for event in await store.append(appends, metadata=meta):
                category = stream_category(event.stream_id)
                partition = partition_for(event.stream_id, PARTITIONS)
                for projection in app.projection_list():
                    if category in projection.categories:
                        key = (projection.name, partition)
                        last[key] = max(last.get(key, 0), event.position)
    finally:
        await store.close()
    return {f"{name}\0{partition}": pos for (name, partition), pos in last.items()}


class Processes:
    """The processes of one run, each in a group of its own, stopped by PID."""

    def __init__(self, work: Path) -> None:
        self._work = work
        self._running: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, env: dict[str, str], *args: str
    ) -> subprocess.Popen[bytes]:
        log = open(self._work / f"{name}.log", "wb")  # noqa: SIM115 (closed with the run)
        process = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._running.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self._running):
            with suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in self._running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._running.clear()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of every core since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shares_settled(ports: list[int]) -> bool:
    """Each projector owns its share of the partitions (split as evenly as
    they go), and the shares add up to every partition once."""
    owned = []
    for port in ports:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        except httpx.HTTPError:
            return False
        found = re.search(r"^cqrskit_projector_owned_partitions (\S+)$", text, re.M)
        owned.append(int(float(found.group(1))) if found else 0)
    even = PARTITIONS // len(ports)
    return sum(owned) == PARTITIONS and all(n in (even, even + 1) for n in owned)


async def wait_caught_up(
    storage: Storage, targets: dict[str, int], within: float
) -> float | None:
    """Poll the applied positions until every target is reached; return the
    monotonic time the first applied position was seen."""
    client = redis.Redis.from_url(compare.REDIS)
    by_projection: dict[str, dict[str, int]] = {}
    for key, position in targets.items():
        name, partition = key.split("\0")
        by_projection.setdefault(name, {})[applied_mark(int(partition))] = position
    first: float | None = None
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            done = True
            for name, marks in by_projection.items():
                hash_key = f"{storage.name}:c:{name}"
                values = await client.hmget(hash_key, list(marks))
                reached = [int(v or 0) for v in values]
                if first is None and any(reached):
                    first = time.monotonic()
                done = done and all(
                    r >= t for r, t in zip(reached, marks.values(), strict=True)
                )
            if done:
                return first
            await asyncio.sleep(POLL)
    finally:
        await client.aclose()
    raise SystemExit(f"the projections did not catch up within {within:g} s")


@contextmanager
def profiled(pid: int, path: str | None) -> Iterator[None]:
    """py-spy on `pid` while the block runs (nothing without a path)."""
    if path is None:
        yield
        return
    spy = subprocess.Popen(
        [str(BIN / "py-spy"), "record", "--pid", str(pid), "--nonblocking",
         "--rate", "200", "--format", "raw", "--output", path],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)


@dataclass(frozen=True)
class PipelineRun:
    seconds: float
    """From the relay's spawn until caught up."""
    steady: float
    """From the first applied position seen until caught up."""
    relay_cpu: float
    """Its start included."""
    projectors_cpu: float
    """Since the relay started."""
    busy: float
    """The share of the machine's cores busy meanwhile (every process)."""


def start_projectors(storage: Storage, count: int, processes: Processes) -> list[int]:
    """Start them and wait until they have shared the partitions out; their PIDs."""
    ports, pids = [], []
    for n in range(count):
        ports.append(free_port())
        pids.append(processes.start(
            f"projector{n}-{storage.name}", storage.env, str(BIN / "cqrskit"),
            "project", "--port", str(ports[-1]), "--name", f"bench-{n}",
        ).pid)  # fmt: skip
    deadline = time.monotonic() + 120
    while not shares_settled(ports):
        if time.monotonic() > deadline:
            raise SystemExit("the projectors did not share the partitions out")
        time.sleep(0.2)
    return pids


def run_pipeline(
    template: Storage, storage: Storage, projectors: int, targets: dict[str, int],
    processes: Processes, profile: str | None,
) -> PipelineRun:  # fmt: skip
    """Relay and P projectors on a copy of the log, until caught up."""
    asyncio.run(
        compare.admin(f'CREATE DATABASE "{storage.name}" TEMPLATE "{template.name}"')
    )
    pids = start_projectors(storage, projectors, processes)
    idle_cpu = sum(cpu_seconds(pid) for pid in pids)  # their start, not the run's
    busy_before, started = machine_busy(), time.monotonic()
    relay = processes.start(
        f"relay-{storage.name}", storage.env, str(BIN / "cqrskit"),
        "relay", "--port", str(free_port()),
    )  # fmt: skip
    relay_profile = profile and f"{profile}-relay-p{projectors}.txt"
    projector_profile = profile and f"{profile}-projector-p{projectors}.txt"
    with profiled(relay.pid, relay_profile), profiled(pids[0], projector_profile):
        first = asyncio.run(wait_caught_up(storage, targets, within=600))
    ended, busy = time.monotonic(), machine_busy()
    run = PipelineRun(
        ended - started,
        ended - (first or started),
        cpu_seconds(relay.pid),
        sum(cpu_seconds(pid) for pid in pids) - idle_cpu,
        (busy[0] - busy_before[0]) / max(busy[1] - busy_before[1], 1),
    )
    processes.stop_all()
    return run


def run_rebuild(
    storage: Storage, work: Path, profile: str | None
) -> tuple[float, float, float]:
    """`cqrskit rebuild` of the log: seconds with the process's start, by its
    own report, and the CPU seconds it used."""
    log = work / "rebuild.log"
    cpu_before = children_cpu()
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "cqrskit"), "rebuild"], env=storage.env,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        with profiled(process.pid, profile and f"{profile}-rebuild.txt"):
            status = process.wait()
    took = time.monotonic() - started
    text = log.read_text()
    found = re.search(r"rebuilt .*: ([\d,]+) events in ([\d.]+) s", text)
    if status != 0 or found is None:
        raise SystemExit(f"cqrskit rebuild failed ({status}):\n{text[-2000:]}")
    return took, float(found.group(2)), children_cpu() - cpu_before


def children_cpu() -> float:
    """CPU seconds of the children waited for so far (py-spy's included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def print_top(path: str) -> None:
    if Path(path).exists() and Path(path).stat().st_size:
        print(f"\n== {path}")
        subprocess.run(
            [sys.executable, str(Path(__file__).parent / "profile_top.py"), path,
             "--top", "20"], check=False,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--carts", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--projectors", default="1,2,4")
    parser.add_argument("--quick", action="store_true", help="2,000 carts")
    parser.add_argument("--profile", default=None, metavar="PREFIX")
    parser.add_argument(
        "--rebuild-only", action="store_true", help="time only `cqrskit rebuild`"
    )
    args = parser.parse_args()
    # compare.sh stops its steps with SIGTERM: clean up as on Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    carts = 2_000 if args.quick else args.carts
    events = carts * args.items
    run_id = f"pipe_{int(time.time())}_{os.getpid()}"
    template = Storage(f"{run_id}_log")
    counts = [] if args.rebuild_only else [p for p in args.projectors.split(",") if p]
    runs = [(int(p), Storage(f"{run_id}_p{p}")) for p in counts]
    rebuilt = runs[-1][1] if runs else Storage(f"{run_id}_rebuild")
    work = Path(os.environ.get("TMPDIR", "/tmp")) / run_id
    work.mkdir()
    processes = Processes(work)
    try:
        print(f"pipeline: appending {carts:,} carts x {args.items} = {events:,} events")
        targets = asyncio.run(load_log(template, carts, args.items))
        if runs:
            url = compare.database_url(template.name)
            refresh = asyncio.run(lag_refresh.measure(url))
            print(lag_refresh.describe(refresh))
            compare.emit(
                {**refresh, "command": "bench/lag_refresh.py (in bench/pipeline.py)"}
            )
        for projectors, storage in runs:
            run = run_pipeline(
                template, storage, projectors, targets, processes, args.profile
            )
            print(
                f"pipeline, {projectors} projector(s): {events / run.steady:,.0f}"
                f" events/s ({events / run.seconds:,.0f} with the relay's start);"
                f" CPU µs per event: relay {run.relay_cpu / events * 1e6:.1f},"
                f" projectors {run.projectors_cpu / events * 1e6:.1f};"
                f" cores busy {run.busy:.0%}"
            )
            compare.emit({
                "key": f"pipeline_p{projectors}", "events": events,
                "per_s": events / run.steady, "with_start_per_s": events / run.seconds,
                "relay_cpu_us": run.relay_cpu / events * 1e6,
                "projectors_cpu_us": run.projectors_cpu / events * 1e6,
                "busy": run.busy,
                "command": f"bench/pipeline.py --carts {carts} --items {args.items}",
            })  # fmt: skip
        if not runs:
            asyncio.run(compare.admin(
                f'CREATE DATABASE "{rebuilt.name}" TEMPLATE "{template.name}"'
            ))  # fmt: skip
        with_start, alone, cpu = run_rebuild(rebuilt, work, args.profile)
        print(
            f"cqrskit rebuild: {events / alone:,.0f} events/s"
            f" ({events / with_start:,.0f} with process start);"
            f" CPU µs per event {cpu / events * 1e6:.1f} (its start included)"
        )
        compare.emit({
            "key": "rebuild", "events": events, "per_s": events / alone,
            "with_start_per_s": events / with_start, "cpu_us": cpu / events * 1e6,
            "command": f"cqrskit rebuild (of the pipeline's {events:,} events)",
        })  # fmt: skip
    except BaseException:
        for log in sorted(work.glob("*.log")):
            print(f"== {log.name}\n{log.read_text()[-1500:]}", file=sys.stderr)
        raise
    finally:
        processes.stop_all()
        for storage in {template, rebuilt, *(s for _, s in runs)}:
            asyncio.run(storage.drop())
        shutil.rmtree(work, ignore_errors=True)  # its logs were printed on failure
    if args.profile:
        for path in sorted(
            Path(args.profile).parent.glob(f"{Path(args.profile).name}-*.txt")
        ):
            print_top(str(path))


if __name__ == "__main__":
    main()
