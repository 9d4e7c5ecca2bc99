"""`cqrskit status`: where the relay and every projection stand, read from the
stores by their URLs (DESIGN.md rule 8), as a table or as JSON.

The JSON shape is stable (docs/architecture.md, "Status"): `head`, `relay`,
`partitions`, `members` and `projections`, each projection with its parked
streams and, per partition, its owner, applied position and lag.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from cqrskit.core.deadletter import parked
from cqrskit.core.messages import LogEntry
from cqrskit.core.ports import EventLog, LeaseHolder, LogIndex, ReadStore
from cqrskit.core.progress import Lag, age, applied_mark, lags, relay_lag, start_of
from cqrskit.core.projection import Projection
from cqrskit.core.sharing import assign
from cqrskit.runtime import adapters
from cqrskit.runtime.roles import operator_stores
from cqrskit.runtime.settings import Settings

SCAN_LIMIT = 100_000
"""Events read at most to count a lag; past it the count is a lower bound."""
_PAGE = 5_000


@dataclass(frozen=True)
class RelayStatus:
    embedded: bool
    """The relay runs inside `cqrskit run` (its position lives in memory)."""
    leader: LeaseHolder | None
    position: int | None
    lag_events: int | None
    lag_seconds: float | None


@dataclass(frozen=True)
class PartitionStatus:
    partition: int
    owner: str | None
    applied_position: int
    lag_events: int
    lag_seconds: float
    lag_capped: bool


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    parked_streams: int
    partitions: list[PartitionStatus] = field(default_factory=list)


@dataclass(frozen=True)
class Status:
    head: int
    relay: RelayStatus
    partitions: int
    members: list[dict[str, Any]]
    projections: list[ProjectionStatus]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def read_log(
    store: LogIndex, after: int, head: int, limit: int = SCAN_LIMIT
) -> tuple[list[LogEntry], bool]:
    """The log's entries after `after` up to `head`, at most `limit`; and
    whether it stopped at the limit before the head."""
    events: list[LogEntry] = []
    while after < head and len(events) < limit:
        page = await store.read_entries(after, min(_PAGE, limit - len(events)))
        if not page:
            break
        events += page
        after = page[-1].position
    return events, len(events) >= limit and after < head


async def applied_positions(
    store: ReadStore, projection: str, partitions: int
) -> dict[int, int]:
    """The applied position of each partition `projection` has one for."""
    marks = {applied_mark(p): p for p in range(partitions)}
    found = await store.stream_versions(projection, list(marks))
    return {marks[m]: position for m, position in found.items() if position}


async def projection_lags(
    events: LogIndex,
    views: ReadStore,
    projections: Sequence[Projection],
    partitions: int,
    head: int,
    limit: int = SCAN_LIMIT,
) -> dict[str, dict[int, Lag]]:
    """Per projection and partition, its lag behind the log's `head`; one read
    of the log (at most `limit` events) serves them all."""
    applied = {
        p.name: await applied_positions(views, p.name, partitions) for p in projections
    }
    start = min((start_of(a) for a in applied.values()), default=head)
    pending, capped = await read_log(events, start, head, limit)
    now = datetime.now(UTC)
    return {
        p.name: lags(
            applied[p.name], partitions, p.categories, pending, now, capped=capped
        )
        for p in projections
    }


async def relay_status(store: EventLog, settings: Settings, head: int) -> RelayStatus:
    if settings.broker_url.startswith("memory://"):
        return RelayStatus(True, None, None, None, None)
    position = await store.load_position("relay")
    leader = await adapters.lease_holder(settings.event_store_url, "relay")
    oldest = await store.read_entries(position, 1) if position < head else []
    seconds = age(oldest[0].recorded_at if oldest else None, datetime.now(UTC))
    return RelayStatus(False, leader, position, relay_lag(head, position), seconds)


async def gather(settings: Settings, projections: Sequence[Projection]) -> Status:
    """Read where everything stands (StoreUnavailable if a store cannot serve)."""
    async with AsyncExitStack() as stack:
        events, views = await operator_stores(settings, stack)
        members: list[str] = []
        if not settings.broker_url.startswith("memory://"):
            membership = await adapters.open_membership(settings.read_store_url)
            stack.push_async_callback(membership.close)
            members = await membership.members()
        return await status_of(events, views, settings, projections, members)


async def status_of(
    events: EventLog,
    views: ReadStore,
    settings: Settings,
    projections: Sequence[Projection],
    members: list[str],
) -> Status:
    """Where everything stands, read from stores already open (the console
    keeps them open); `members`: the live projectors."""
    partitions = settings.partitions
    head = await events.head()
    relay = await relay_status(events, settings, head)
    owners = assign(members, partitions)
    found = await projection_lags(events, views, projections, partitions, head)
    shown = [
        ProjectionStatus(
            p.name,
            len(await parked(views, p.name)),
            [
                PartitionStatus(
                    n, owners.get(n), lag.applied, lag.events, lag.seconds, lag.capped
                )
                for n, lag in sorted(found[p.name].items())
            ],
        )
        for p in projections
    ]
    held = [
        {"member": m, "partitions": sorted(n for n, o in owners.items() if o == m)}
        for m in members
    ]
    return Status(head, relay, partitions, held, shown)


def render(status: Status) -> str:
    """The status as a table for a terminal."""
    relay = status.relay
    lines = [f"event store head  {status.head}"]
    if relay.embedded:
        lines.append("relay             inside `cqrskit run` (in-process broker)")
    else:
        leader = relay.leader
        who = f"{leader.holder} since {leader.since}" if leader else "no leader"
        lines.append(
            f"relay             {who}; position {relay.position}, "
            f"lag {relay.lag_events} events, {relay.lag_seconds:.1f} s"
        )
    lines.append(f"projectors        {len(status.members)} live")
    for member in status.members:
        lines.append(f"  {member['member']:<30} partitions {member['partitions']}")
    for projection in status.projections:
        lines.append(
            f"projection {projection.name}  ({projection.parked_streams} parked)"
        )
        lines.append(
            "  partition  owner                           applied   lag   lag s"
        )
        for part in projection.partitions:
            events = f"{'≥' if part.lag_capped else ''}{part.lag_events}"
            lines.append(
                f"  {part.partition:>9}  {part.owner or '-':<30} "
                f"{part.applied_position:>8} {events:>5} {part.lag_seconds:>7.1f}"
            )
    return "\n".join(lines)
