"""`cqrskit status --json` against `cqrskit up` on the real services: the
relay leader, the projectors with their partitions, no lag once caught up,
and lag while the projectors are frozen and commands keep coming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import orjson
import pytest
from harness import CqrskitProcess, Shop
from test_failover import add_products, all_readable, topology

__all__ = ["topology"]  # the fixture: `cqrskit up` on storage of its own
from topology import ServicesTopology, role_ports

from credentials import ADMIN_HEADERS, process_env

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

WAIT = 30.0


def status(env: dict[str, str], *args: str) -> dict[str, Any]:
    answer = subprocess.run(
        [sys.executable, "-m", "cqrskit.entrypoints.cli", "status", "--json", *args],
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    found: dict[str, Any] = orjson.loads(answer.stdout)
    return found


def lag(found: dict[str, Any]) -> int:
    return sum(
        part["lag_events"] for p in found["projections"] for part in p["partitions"]
    )


def eventually(env: dict[str, str], check: Any) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while not check(found := status(env)):
        assert time.monotonic() < deadline, orjson.dumps(found).decode()
        time.sleep(0.5)
    return found


def test_status_shows_the_leader_the_members_and_the_lag(
    topology: ServicesTopology,
) -> None:
    env = topology.env()
    shop = Shop(topology)  # type: ignore[arg-type]
    try:
        all_readable(shop, add_products(shop, 8))
        found = eventually(
            env, lambda s: len(s["members"]) == 2 and s["relay"]["lag_events"] == 0
        )
        assert found["head"] >= 8  # a ProductAdded per SKU
        assert found["relay"]["position"] == found["head"]
        assert found["relay"]["leader"]["holder"]
        held = [p for m in found["members"] for p in m["partitions"]]
        assert sorted(held) == list(range(found["partitions"]))
        assert lag(found) == 0
        catalog = next(p for p in found["projections"] if p["name"] == "catalog")
        assert max(part["applied_position"] for part in catalog["partitions"]) > 0

        roles = role_ports(topology)
        console = f"http://127.0.0.1:{roles['console'][0]}/console/api/status"
        seen = httpx.get(console, headers=ADMIN_HEADERS, timeout=10).json()
        assert [m["member"] for m in seen["members"]] == [
            m["member"] for m in found["members"]
        ]
        assert seen["relay"]["leader"]["holder"] == found["relay"]["leader"]["holder"]
        frozen = [roles["projector 1"][1], roles["projector 2"][1]]
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            add_products(shop, 8)
            behind = eventually(env, lambda s: lag(s) >= 8)
            assert behind["relay"]["lag_events"] == 0 or behind["head"] > found["head"]
            waiting = [
                part
                for p in behind["projections"]
                for part in p["partitions"]
                if part["lag_events"]
            ]
            assert all(part["lag_seconds"] > 0 for part in waiting)
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        eventually(env, lambda s: lag(s) == 0)
    finally:
        shop.close()


def test_status_reads_the_embedded_stores_of_cqrskit_run(
    fresh_cqrskit: CqrskitProcess, fresh_shop: Shop
) -> None:
    all_readable(fresh_shop, add_products(fresh_shop, 5))
    args = ("--data-dir", str(fresh_cqrskit.data_dir))
    deadline = time.monotonic() + WAIT
    while lag(found := status(process_env(), *args)) or found["head"] < 5:
        assert time.monotonic() < deadline, orjson.dumps(found).decode()
        time.sleep(0.5)

    assert found["relay"]["embedded"] is True
    assert found["members"] == []  # one process: no sharing
    catalog = next(p for p in found["projections"] if p["name"] == "catalog")
    applied = [part["applied_position"] for part in catalog["partitions"]]
    assert max(applied) > 0
    assert catalog["parked_streams"] == 0


def test_a_store_that_cannot_be_reached_is_a_message_and_exit_1() -> None:
    env = process_env(
        CQRSKIT_EVENT_STORE_URL="postgresql://postgres@127.0.0.1:1/none",
        CQRSKIT_BROKER_URL="amqp://guest:guest@127.0.0.1:1/",
    )
    answer = subprocess.run(
        [sys.executable, "-m", "cqrskit.entrypoints.cli", "status"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert answer.returncode == 1
    assert b"cannot read the status: PostgreSQL cannot serve" in answer.stderr
    assert b"Traceback" not in answer.stderr
