"""The faults, each a step that returns when the fault is over."""

from __future__ import annotations

import asyncio
import os
import signal

from faults.processes import signal_tree
from faults.runner import Faulted, Scenario

FREEZE = 15.0
BROKER_DOWN = 10.0
REBUILD_TIMEOUT = 120.0


def kill_role(role: str, name: str) -> Scenario:
    async def inject(faulted: Faulted) -> None:
        signal_tree(await faulted.role(role), signal.SIGKILL)

    return Scenario(f"kill {name}", f"kill -9 of the {role}", inject)


async def kill_active_relay(faulted: Faulted) -> None:
    os.kill(await faulted.active_relay(), signal.SIGKILL)


async def freeze_active_relay(faulted: Faulted) -> None:
    pid = await faulted.active_relay()
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(FREEZE)
    finally:
        os.kill(pid, signal.SIGCONT)


async def stop_rabbitmq(faulted: Faulted) -> None:
    rabbitmq = faulted.services.rabbitmq
    await asyncio.to_thread(rabbitmq.stop)
    try:
        await asyncio.sleep(BROKER_DOWN)
    finally:
        await asyncio.to_thread(rabbitmq.start)


async def restart_postgres(faulted: Faulted) -> None:
    """A fast shutdown (sessions cut, every commit kept), then start."""
    postgres = faulted.services.postgres
    await asyncio.to_thread(postgres.stop, "fast")
    await asyncio.to_thread(postgres.start)


async def lose_redis(faulted: Faulted) -> None:
    """Killed, and started empty (it keeps nothing on disk)."""
    redis = faulted.services.redis
    await asyncio.to_thread(redis.stop)
    await asyncio.to_thread(redis.start)


async def rebuild(faulted: Faulted) -> None:
    code, output = await faulted.cli("rebuild", timeout=REBUILD_TIMEOUT)
    assert code == 0, f"cqrskit rebuild exited {code}:\n{output[-3000:]}"


SCENARIOS = [
    kill_role("command service", "command service"),
    kill_role("query service (2 workers)", "query service"),
    Scenario("kill active relay", "kill -9 of the relay holding the lease",
             kill_active_relay),
    kill_role("projector 1", "projector"),
    Scenario("freeze active relay",
             f"SIGSTOP of the relay holding the lease for {FREEZE:g} s, then SIGCONT",
             freeze_active_relay),
    Scenario("stop rabbitmq", f"RabbitMQ stopped for {BROKER_DOWN:g} s, then started",
             stop_rabbitmq),
    Scenario("restart postgresql", "PostgreSQL restarted (fast shutdown, start)",
             restart_postgres),
    Scenario("lose redis", "Redis killed and started empty, then `cqrskit rebuild`",
             lose_redis, recover=rebuild),
    Scenario("rebuild under load", "`cqrskit rebuild` while the load runs", rebuild),
]  # fmt: skip
