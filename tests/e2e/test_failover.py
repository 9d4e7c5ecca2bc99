"""Single-active roles fail over by themselves: kill the active relay or a
projector with SIGKILL and committed events still reach the read side."""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import Shop
from topology import ServicesTopology

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TAKEOVER_TIMEOUT = 30.0


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[ServicesTopology]:
    system = ServicesTopology(tmp_path)
    system.start()
    try:
        yield system
    finally:
        if system.running:
            system.stop()


def role_ports(system: ServicesTopology) -> dict[str, tuple[int, int]]:
    """Role name -> (port, pid), from the table `cqrskit up` prints."""
    roles = {}
    for name, port, pid in re.findall(
        r"^  (\S.*?)\s+http://[\d.]+:(\d+)\s+pid (\d+)$", system.output(), re.M
    ):
        roles[name] = (int(port), int(pid))
    return roles


def metric(port: int, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, f"{name} not served on {port}"
    return float(match.group(1))


def settles(port: int, name: str, value: float) -> None:
    """Wait (bounded) until the metric reads `value`."""
    deadline = time.monotonic() + TAKEOVER_TIMEOUT
    while metric(port, name) != value:
        assert time.monotonic() < deadline, f"{name} on {port} never became {value}"
        time.sleep(0.1)


def add_products(shop: Shop, count: int) -> list[str]:
    skus = [f"FO-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for sku in skus:
        body = {"sku": sku, "name": "Failover", "price_cents": 100}
        answer = shop.command.post("/products", json=body)
        assert answer.status_code == 201, answer.text
    return skus


def all_readable(shop: Shop, skus: list[str]) -> None:
    for sku in skus:
        shop.eventually(f"/products/{sku}", timeout=TAKEOVER_TIMEOUT)


def test_the_standby_relay_takes_over(topology: ServicesTopology) -> None:
    shop = Shop(topology)  # type: ignore[arg-type]
    try:
        all_readable(shop, add_products(shop, 3))
        roles = role_ports(topology)
        relays = [roles["relay"], roles["relay (standby)"]]
        active = [
            (port, pid) for port, pid in relays if metric(port, "cqrskit_relay_active")
        ]
        assert len(active) == 1, "exactly one relay is active"
        (_, active_pid), (standby_port, _) = (
            active[0],
            next(r for r in relays if r != active[0]),
        )

        os.kill(active_pid, signal.SIGKILL)
        skus = add_products(shop, 5)  # committed while no relay is active
        all_readable(shop, skus)
        assert metric(standby_port, "cqrskit_relay_active") == 1
    finally:
        shop.close()


def test_a_projectors_partitions_move_to_the_other(topology: ServicesTopology) -> None:
    shop = Shop(topology)  # type: ignore[arg-type]
    try:
        roles = role_ports(topology)
        (port1, pid1), (port2, _) = roles["projector 1"], roles["projector 2"]
        for port in (port1, port2):  # shared out evenly, each sees the other
            settles(port, "cqrskit_projector_live_members", 2)
            assert metric(port, "cqrskit_projector_owned_partitions") == 4
        all_readable(shop, add_products(shop, 16))  # both projectors at work
        assert metric(port1, "cqrskit_projector_applied") > 0
        assert metric(port2, "cqrskit_projector_applied") > 0

        os.kill(pid1, signal.SIGKILL)
        before = metric(port2, "cqrskit_projector_applied")
        skus = add_products(shop, 16)
        all_readable(shop, skus)  # including projector 1's partitions
        deadline = time.monotonic() + TAKEOVER_TIMEOUT
        while metric(port2, "cqrskit_projector_applied") < before + 16:
            assert time.monotonic() < deadline, "projector 2 did not take over"
            time.sleep(0.1)
        settles(port2, "cqrskit_projector_live_members", 1)  # 1 expired
        assert metric(port2, "cqrskit_projector_owned_partitions") == 8
    finally:
        shop.close()
