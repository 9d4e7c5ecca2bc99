"""The two systems planned for one target: the CQRS topology, with each side
scaled on its own, and the CRUD monolith, whose one database carries both."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cqrskit.runtime.planning.figures import Figures
from cqrskit.runtime.planning.model import (
    DAY,
    MIN_PARTITIONS,
    Limit,
    Plan,
    SystemPlan,
    Target,
    ceil,
    instances,
    n,
    needed,
    size,
)

LOAD, ROLES, PG, REDIS, BROKER = (
    "load",
    "processes per role",
    "PostgreSQL",
    "Redis (read store)",
    "RabbitMQ",
)


def plan(target: Target, figures: Figures) -> Plan:
    return Plan(
        target, figures, plan_cqrs(target, figures), plan_monolith(target, figures)
    )


def _load(s: SystemPlan, t: Target) -> None:
    f = t.peak_factor
    s.step(
        LOAD,
        "average reads/s",
        t.reads_per_s / f,
        "/s",
        f"{n(t.reads_per_s)} at peak / {f:g} (peak factor)",
    )
    s.step(
        LOAD,
        "average writes/s",
        t.writes_per_s / f,
        "/s",
        f"{n(t.writes_per_s)} at peak / {f:g} (peak factor)",
    )
    s.step(
        LOAD,
        "events/s at peak",
        t.writes_per_s * t.events_per_command,
        "/s",
        f"{n(t.writes_per_s)} writes/s x {t.events_per_command:g} per command",
    )
    s.step(
        LOAD,
        "average events/s",
        t.writes_per_s * t.events_per_command / f,
        "/s",
        f"{n(t.writes_per_s * t.events_per_command)} / {f:g}",
    )


def plan_cqrs(t: Target, fig: Figures) -> SystemPlan:
    s = SystemPlan("CQRS topology")
    _load(s, t)
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
    _connections(s, connections, fig)
    _storage(s, t, fig)
    return busy


def _connections(s: SystemPlan, connections: float, fig: Figures) -> None:
    """Not a limit: a setting to raise, or a pooler (PgBouncer, RDS Proxy)
    to put in front; the plan says which."""
    over = connections > fig.postgres_max_connections
    advice = ": raise it or pool (PgBouncer, RDS Proxy)" if over else ""
    s.step(
        PG,
        "connections",
        connections,
        "",
        f"{n(connections)} of max_connections {n(fig.postgres_max_connections)}"
        f" ({n(fig.db_pool_per_process)} per pooled process){advice}",
    )


def _storage(s: SystemPlan, t: Target, fig: Figures) -> None:
    avg_rows = t.writes_per_s * t.events_per_command / t.peak_factor
    day = s.step(
        PG,
        "storage growth per day",
        avg_rows * DAY * t.event_bytes,
        "B",
        f"{n(avg_rows)} rows/s on average x 86,400 s x "
        f"{n(t.event_bytes)} B = {size(avg_rows * DAY * t.event_bytes)}",
    )
    s.step(
        PG,
        "storage growth per year",
        day * 365,
        "B",
        f"{size(day)} x 365 = {size(day * 365)}",
    )
    wal = s.step(
        PG,
        "WAL per day",
        day * fig.wal_bytes_per_stored_byte,
        "B",
        f"{size(day)} x {fig.wal_bytes_per_stored_byte:g} "
        f"= {size(day * fig.wal_bytes_per_stored_byte)}",
    )
    s.step(
        PG,
        "WAL kept for point-in-time recovery",
        wal * t.wal_retention_days,
        "B",
        f"{size(wal)} x {t.wal_retention_days:g} days "
        f"= {size(wal * t.wal_retention_days)}",
    )


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


def plan_monolith(t: Target, fig: Figures) -> SystemPlan:
    s = SystemPlan("CRUD monolith")
    _load(s, t)
    r, w, h = t.reads_per_s, t.writes_per_s, t.headroom
    share = r / fig.monolith_reads_per_s + w / fig.monolith_writes_per_s
    s.step(
        ROLES,
        "worker time at peak",
        share,
        "processes",
        f"{n(r)} / {n(fig.monolith_reads_per_s)} reads/s + "
        f"{n(w)} / {n(fig.monolith_writes_per_s)} writes/s per process",
    )
    count = max(1, ceil(share / h))
    s.step(
        ROLES,
        "monolith processes needed",
        count,
        "",
        f"ceil({share:.2f} / {h:g}) at {h:.0%}",
    )
    workers = instances(s, ROLES, "monolith", count, t.zones)
    rows = w * t.events_per_command * 2
    busy = r / fig.postgres_reads_per_s + max(
        w / fig.postgres_commits_per_s, rows / fig.postgres_rows_per_s
    )
    s.step(
        PG,
        "primary busy at peak",
        busy,
        "",
        f"{n(r)} / {n(fig.postgres_reads_per_s)} reads/s + max({n(w)} / "
        f"{n(fig.postgres_commits_per_s)} commits/s, {n(rows)} / "
        f"{n(fig.postgres_rows_per_s)} rows/s (a row and its history row "
        f"per event)) = {busy:.1%}",
    )
    connections = workers * fig.db_pool_per_process
    _connections(s, connections, fig)
    _storage(s, t, fig)
    s.limits += [
        Limit("PostgreSQL primary (reads and writes)", busy, False),
        Limit(f"monolith ({count} processes)", share / count, True),
    ]
    return s
