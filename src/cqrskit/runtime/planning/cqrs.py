"""The CQRS topology planned for a target: processes per role, the broker's
partitions, the event store and the read store, each side scaled on its own."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cqrskit.runtime.planning.figures import Figures
from cqrskit.runtime.planning.model import (
    DAY,
    MIN_PARTITIONS,
    Limit,
    SystemPlan,
    Target,
    ceil,
    instances,
    n,
    needed,
    size,
)
from cqrskit.runtime.planning.steps import (
    BROKER,
    PG,
    REDIS,
    ROLES,
    plan_connections,
    plan_load,
    plan_storage,
)


def plan_cqrs(t: Target, fig: Figures) -> SystemPlan:
    s = SystemPlan("CQRS topology")
    plan_load(s, t)
    p = _processes(s, t, fig)
    partitions = _broker(s, t, fig, p.projectors)
    pg = _event_store(
        s,
        t,
        fig,
        connections=p.command_instances * fig.db_pool_per_process + p.relays * 2,
    )
    _read_store(s, t, fig)
    s.limits += _cqrs_limits(t, fig, p, partitions, pg)
    return s


@dataclass(frozen=True)
class _Processes:
    """How many processes each CQRS role needs, and how many run."""

    command: int
    command_instances: int
    query: int
    relays: int
    projectors: int


def _processes(s: SystemPlan, t: Target, fig: Figures) -> _Processes:
    h = t.headroom
    events = t.writes_per_s * t.events_per_command
    cmd = needed(s, ROLES, "command", t.writes_per_s, fig.command_writes_per_s, h)
    commands = instances(s, ROLES, "command", cmd, t.zones)
    qry = needed(s, ROLES, "query", t.reads_per_s, fig.query_reads_per_s, h)
    instances(s, ROLES, "query", qry, t.zones)
    relays = s.step(
        ROLES,
        "relay instances",
        max(2, t.zones),
        "",
        f"max(2, {t.zones} zones): one leads, the others stand by",
    )
    proj = needed(s, ROLES, "projector", events, _projector_ceiling(fig), h)
    instances(s, ROLES, "projector", proj, t.zones)
    return _Processes(cmd, commands, qry, int(relays), proj)


def _projector_ceiling(fig: Figures) -> float:
    return fig.projector_messages_per_s * fig.events_per_message


def _broker(s: SystemPlan, t: Target, fig: Figures, projectors: int) -> int:
    """Partitions, messages and bytes through the broker; the partitions."""
    events = t.writes_per_s * t.events_per_command
    partitions: int = max(MIN_PARTITIONS, 2 ** ceil(math.log2(2 * projectors)))
    s.step(
        BROKER,
        "partitions (quorum queues)",
        partitions,
        "",
        f"max({MIN_PARTITIONS}, 2 x {projectors} projectors, rounded up to a power "
        "of 2): room for twice the projectors",
    )
    s.step(
        BROKER,
        "messages/s at peak",
        events / fig.events_per_message,
        "/s",
        f"{n(events)} events/s / {fig.events_per_message:g} per message",
    )
    s.step(
        BROKER,
        "throughput at peak",
        events * t.event_bytes,
        "B/s",
        f"{n(events)} events/s x {n(t.event_bytes)} B = "
        f"{size(events * t.event_bytes)}/s",
    )
    return partitions


def _cqrs_limits(
    t: Target, fig: Figures, p: _Processes, partitions: int, pg: float
) -> list[Limit]:
    events = t.writes_per_s * t.events_per_command
    return [
        Limit("PostgreSQL primary (appends)", pg, False),
        Limit(
            "relay (one active)",
            events / (fig.relay_messages_per_s * fig.events_per_message),
            False,
        ),
        Limit(
            "projectors (one per partition at most)",
            events / (partitions * _projector_ceiling(fig)),
            False,
        ),
        Limit(
            f"command service ({p.command} processes)",
            t.writes_per_s / (p.command * fig.command_writes_per_s),
            True,
        ),
        Limit(
            f"query service ({p.query} processes)",
            t.reads_per_s / (p.query * fig.query_reads_per_s),
            True,
        ),
    ]


def _event_store(s: SystemPlan, t: Target, fig: Figures, connections: float) -> float:
    """Commits, rows, connections, storage and WAL; the utilisation."""
    w, e = t.writes_per_s, t.events_per_command
    commits = s.step(PG, "commits/s at peak", w, "/s", "one transaction per command")
    rows = s.step(
        PG,
        "rows/s at peak",
        w * e,
        "/s",
        f"{n(w)} x {e:g} events, one multi-row INSERT each",
    )
    busy = max(commits / fig.postgres_commits_per_s, rows / fig.postgres_rows_per_s)
    s.step(
        PG,
        "primary busy at peak",
        busy,
        "",
        f"max({n(commits)} / {n(fig.postgres_commits_per_s)} commits/s, "
        f"{n(rows)} / {n(fig.postgres_rows_per_s)} rows/s) = {busy:.1%}",
    )
    plan_connections(s, connections, fig)
    plan_storage(s, t, fig)
    return busy


def _read_store(s: SystemPlan, t: Target, fig: Figures) -> None:
    per_day = s.step(
        REDIS,
        "new views per day",
        ceil(t.writes_per_s / t.peak_factor * t.views_per_write * DAY),
        "",
        f"{n(t.writes_per_s / t.peak_factor)} writes/s on average x "
        f"{t.views_per_write:g} new carts or orders per write x 86,400 s",
    )
    kept = s.step(
        REDIS,
        "views kept",
        per_day * t.view_retention_days,
        "",
        f"{n(per_day)} x {t.view_retention_days:g} days",
    )
    memory = kept * t.view_bytes * fig.redis_bytes_per_view_byte
    s.step(
        REDIS,
        "memory",
        memory,
        "B",
        f"{n(kept)} x {n(t.view_bytes)} B x "
        f"{fig.redis_bytes_per_view_byte:g} (keys, indexes) = {size(memory)}",
    )
