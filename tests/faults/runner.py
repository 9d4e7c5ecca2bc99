"""One scenario: a topology under load, a fault repeated, then the checks.

The result is recorded whether the scenario passes or not, so the report
shows failures as plainly as successes."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from private_services import PrivatePostgres, PrivateRabbitMq, PrivateRedis
from topology import ServicesTopology, metric, role_ports

from faults import checks
from faults.load import Load, Tally, add_product, restock
from faults.processes import role_pid

SKUS = 6
INITIAL_STOCK = 100_000
WARM_UP = 2.0
BETWEEN = 2.0
ROLE_TIMEOUT = 30.0


@dataclass
class PrivateServices:
    postgres: PrivatePostgres
    redis: PrivateRedis
    rabbitmq: PrivateRabbitMq


@dataclass
class Faulted:
    """What a fault reaches: the topology under test and its services."""

    system: ServicesTopology
    services: PrivateServices

    async def role(self, name: str) -> int:
        """The PID of the role now (after a restart, the new one)."""
        up_pid = self.system.pid
        assert up_pid is not None, "cqrskit up is not running"
        port = role_ports(self.system)[name][0]
        deadline = time.monotonic() + ROLE_TIMEOUT
        while (pid := role_pid(up_pid, port)) is None:
            assert time.monotonic() < deadline, f"no {name} is running"
            await asyncio.sleep(0.1)
        return pid

    async def active_relay(self) -> int:
        """The PID of the relay holding the lease."""
        relays = [n for n in role_ports(self.system) if n.startswith("relay")]
        deadline = time.monotonic() + ROLE_TIMEOUT
        while time.monotonic() < deadline:
            for name in relays:
                port = role_ports(self.system)[name][0]
                try:
                    active = await asyncio.to_thread(
                        metric, port, "cqrskit_relay_leader"
                    )
                except Exception:  # restarting, not serving metrics yet
                    continue
                if active == 1:
                    return await self.role(name)
            await asyncio.sleep(0.2)
        raise AssertionError(f"no relay became active in {ROLE_TIMEOUT} s")

    def cli(self, *args: str, timeout: float) -> Awaitable[tuple[int, str]]:
        """A `cqrskit` subcommand on this topology's stores."""
        return asyncio.to_thread(
            checks.run_cli, self.system.env(), *args, timeout=timeout
        )


Step = Callable[[Faulted], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: str
    """What is done, in words, for the report."""
    inject: Step
    """Returns when the fault ends (a process killed, a service back)."""
    recover: Step | None = None
    """An operator's step after the fault (a rebuild); part of the heal time."""


Tick = Callable[[str, int], None]
"""Told of repetitions done: what, and how many (the suite's progress)."""


async def run_scenario(
    scenario: Scenario,
    faulted: Faulted,
    repetitions: int,
    record: Callable[[dict[str, Any]], None],
    tick: Tick = lambda _, __: None,
) -> None:
    """Run, record the result, then fail on any problem. Each repetition
    ticks as it ends; those a failure skips tick with the result."""
    ticked = 0

    def repeated(what: str) -> None:
        nonlocal ticked
        ticked += 1
        tick(what, 1)

    result: dict[str, Any] = {
        "scenario": scenario.name,
        "fault": scenario.fault,
        "repetitions": repetitions,
    }
    problems: list[str] = []
    started = time.monotonic()
    try:
        load = Load(faulted.system.command_url, [_sku() for _ in range(SKUS)])
        try:
            await _under_load(
                scenario, faulted, repetitions, load, result, problems, repeated
            )
            await _check(faulted, load.tally, result, problems)
        finally:
            await load.close()
    except Exception as e:
        problems.append(f"{type(e).__name__}: {e}")
        raise
    finally:
        result["seconds"] = round(time.monotonic() - started, 1)
        result["passed"] = not problems
        result["problems"] = [p[:2000] for p in problems]
        record(result)
        outcome = "passed" if not problems else "failed"
        tick(f"{scenario.name}: {outcome}", repetitions - ticked)
    assert not problems, "\n".join(problems)


def _sku() -> str:
    return f"F-{uuid.uuid4().hex[:10]}"


async def _under_load(
    scenario: Scenario,
    faulted: Faulted,
    repetitions: int,
    load: Load,
    result: dict[str, Any],
    problems: list[str],
    repeated: Callable[[str], None],
) -> None:
    first = [add_product(sku) for sku in load.skus]
    first += [restock(sku, INITIAL_STOCK) for sku in load.skus]
    await load.start(first)
    load_started = time.monotonic()
    await asyncio.sleep(WARM_UP)
    in_flight: list[int] = []
    heals: list[float] = []
    for n in range(1, repetitions + 1):
        await _busy(load)
        in_flight.append(load.tally.in_flight)
        try:
            await scenario.inject(faulted)
            end = time.monotonic()
            if scenario.recover:
                await scenario.recover(faulted)
            heals.append(
                round(await checks.heal_time(load.client, _query(faulted), end), 2)
            )
        except (AssertionError, checks.NotHealed) as e:
            problems.append(f"repetition {n}: {e}")
            break
        if n < repetitions:  # the last is told with the checks' outcome
            repeated(f"{scenario.name}: repetition {n} of {repetitions}")
        await asyncio.sleep(BETWEEN)
    await (load.abort() if problems else load.stop())
    rate = len(load.tally.acks) / (time.monotonic() - load_started)
    result.update(
        commands_per_second=round(rate),
        in_flight_at_fault=in_flight,
        heal_seconds=heals,
        heal_p50=round(statistics.median(heals), 2) if heals else None,
        heal_max=max(heals) if heals else None,
    )


async def _busy(load: Load, wanted: int = 2, within: float = 2.0) -> None:
    """Wait (briefly) for commands to be in flight, so the fault hits some."""
    for _ in range(int(within / 0.005)):
        if load.tally.in_flight >= wanted:
            return
        await asyncio.sleep(0.005)


def _query(faulted: Faulted) -> str:
    return faulted.system.query_url


async def _check(
    faulted: Faulted, tally: Tally, result: dict[str, Any], problems: list[str]
) -> None:
    if (code := faulted.system.exit_code()) is not None:
        problems.append(f"cqrskit up stopped (exit {code}); it must keep running")
    acks = tally.acks
    url = faulted.system.env()["CQRSKIT_EVENT_STORE_URL"]
    streams = await checks.stored_streams(url, checks.written_streams(acks))
    lost = checks.lost_acks(acks, streams)
    expected = checks.expected_stock(acks)
    twice: list[str] = []
    if not tally.unresolved:  # else some stock moves are unknown to the acks
        twice = checks.stored_stock_differences(streams, expected)
    if not problems and not tally.unresolved:  # the read side healed
        twice += await checks.stock_differences(_query(faulted), expected, acks)
    code, output = await checks.verify(
        lambda: faulted.cli("verify", timeout=checks.VERIFY_TIMEOUT)
    )
    differences = checks.verify_differences(code, output)
    result.update(
        acknowledged=len(acks),
        failed=dict(tally.failed),
        retried=dict(tally.retried),
        refused_after_retry=tally.refused_after_retry[:20],
        unresolved=len(tally.unresolved),
        lost=len(lost),
        applied_twice=len(twice),
        verify_exit=code,
        verify_differences=differences,
    )
    problems += [f"lost: {line}" for line in lost[:20]]
    problems += [f"stock: {line}" for line in twice[:20]]
    if twice:
        problems += [f"refused after a retry: {r}" for r in tally.refused_after_retry]
    if tally.unresolved:
        problems.append(f"{len(tally.unresolved)} commands never got an answer")
    if code != 0:
        problems.append(f"cqrskit verify exited {code}:\n{output[-3000:]}")
