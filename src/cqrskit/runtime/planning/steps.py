"""What both systems share: the groups their steps fall in, the load a target
puts on them, and the PostgreSQL connections and storage their database needs."""

from __future__ import annotations

from cqrskit.runtime.planning.figures import Figures
from cqrskit.runtime.planning.model import DAY, SystemPlan, Target, n, size

LOAD, ROLES, PG, REDIS, BROKER = (
    "load",
    "processes per role",
    "PostgreSQL",
    "Redis (read store)",
    "RabbitMQ",
)


def plan_load(s: SystemPlan, t: Target) -> None:
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


def plan_connections(s: SystemPlan, connections: float, fig: Figures) -> None:
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


def plan_storage(s: SystemPlan, t: Target, fig: Figures) -> None:
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
