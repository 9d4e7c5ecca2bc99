"""A projector's share of the partitions, kept up to date as projectors come
and go (`cqrskit.core.sharing` says how and why it converges)."""

from __future__ import annotations

import os
import secrets
import socket

from prometheus_client import CollectorRegistry, Gauge

from cqrskit.core.ports import BatchHandler, Broker
from cqrskit.core.sharing import Shares, consume_share
from cqrskit.runtime import adapters

HEARTBEAT_INTERVAL = 1.0
"""Seconds between heartbeats: a join is seen within about this long."""
MEMBER_TTL = 3.0
"""Seconds after its last heartbeat that a silent projector is forgotten."""


def member_id(name: str | None = None) -> str:
    """A name for this run of the process: a restart is a new member, so the
    others share out again even if it comes back before the old one expired."""
    return f"{name or f'{socket.gethostname()}-{os.getpid()}'}.{secrets.token_hex(3)}"


def _gauges(shares: Shares, registry: CollectorRegistry) -> None:
    for name, doc, reading in [
        (
            "active_partitions",
            "Partitions this projector is receiving batches for",
            lambda: len(shares.active),
        ),
        (
            "owned_partitions",
            "Partitions shared out to this projector",
            lambda: len(shares.owned),
        ),
        ("live_members", "Live projectors seen", lambda: len(shares.members)),
    ]:
        gauge = Gauge(f"cqrskit_projector_{name}", doc, registry=registry)
        gauge.set_function(reading)


async def consume_shared(
    broker: Broker,
    handler: BatchHandler,
    read_store_url: str,
    member: str,
    registry: CollectorRegistry | None = None,
    *,
    interval: float = HEARTBEAT_INTERVAL,
    ttl: float = MEMBER_TTL,
) -> None:
    """Consume this projector's share until cancelled, standing by for the
    rest, with its membership in the read store at `read_store_url`."""
    shares = Shares(member, broker.partitions)
    if registry is not None:
        _gauges(shares, registry)
    membership = await adapters.open_membership(read_store_url)
    try:
        await consume_share(
            broker, handler, membership, shares, interval=interval, ttl=ttl
        )
    finally:
        await membership.close()
