"""Single-active roles fail over by themselves: kill the active relay or a
projector with SIGKILL and committed events still reach the read side. And
`cqrskit up` starts again whichever role dies, while the others go on."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import Shop
from topology import ServicesTopology, metric, restarted_pid, role_ports

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


def settles(port: int, name: str, value: float) -> None:
    """Wait (bounded) until the metric on `port` reads `value`."""
    deadline = time.monotonic() + TAKEOVER_TIMEOUT
    while True:
        # A process starting again may not serve it yet, or not answer at all.
        with contextlib.suppress(httpx.HTTPError, AssertionError):
            if metric(port, name) == value:
                return
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
            (port, pid) for port, pid in relays if metric(port, "cqrskit_relay_leader")
        ]
        assert len(active) == 1, "exactly one relay is active"
        (_, active_pid), (standby_port, _) = (
            active[0],
            next(r for r in relays if r != active[0]),
        )

        os.kill(active_pid, signal.SIGKILL)
        skus = add_products(shop, 5)  # committed while no relay is active
        all_readable(shop, skus)
        assert metric(standby_port, "cqrskit_relay_leader") == 1
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
        assert metric(port1, "cqrskit_projector_applied_events_total") > 0
        assert metric(port2, "cqrskit_projector_applied_events_total") > 0

        os.kill(pid1, signal.SIGKILL)
        before = metric(port2, "cqrskit_projector_applied_events_total")
        skus = add_products(shop, 16)
        all_readable(shop, skus)  # including projector 1's partitions
        deadline = time.monotonic() + TAKEOVER_TIMEOUT
        while metric(port2, "cqrskit_projector_applied_events_total") < before + 16:
            assert time.monotonic() < deadline, "projector 2 did not take over"
            time.sleep(0.1)

        # `cqrskit up` starts projector 1 again: once the killed one has
        # expired, the two share the partitions out evenly again.
        settles(port1, "cqrskit_projector_live_members", 2)
        for port in (port1, port2):
            settles(port, "cqrskit_projector_owned_partitions", 4)
        assert restarted_pid(topology, "projector 1", 1) is not None
    finally:
        shop.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).is_success
    except httpx.HTTPError:
        return False


def test_up_starts_again_whichever_role_dies(topology: ServicesTopology) -> None:
    roles = role_ports(topology)
    assert "guest:***@" in topology.output()
    assert "guest:guest@" not in topology.output()
    for name in ["command service", "relay", "projector 1"]:
        port, pid = roles[name]
        others = [p for n, (_, p) in roles.items() if n != name]
        os.kill(pid, signal.SIGKILL)

        deadline = time.monotonic() + TAKEOVER_TIMEOUT
        while (new_pid := restarted_pid(topology, name, 1)) is None or not healthy(
            port
        ):
            assert time.monotonic() < deadline, (
                f"{name} not restarted:\n{topology.output()}"
            )
            time.sleep(0.2)
        assert new_pid != pid
        assert all(alive(p) for p in others), f"another role stopped with {name}"
        roles[name] = (port, new_pid)

    shop = Shop(topology)  # type: ignore[arg-type]
    try:
        all_readable(shop, add_products(shop, 3))
    finally:
        shop.close()
