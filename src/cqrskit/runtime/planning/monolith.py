"""The CRUD monolith planned for a target: one kind of process, and one
database that carries both the reads and the writes."""

from __future__ import annotations

from cqrskit.runtime.planning.figures import Figures
from cqrskit.runtime.planning.model import Limit, SystemPlan, Target, ceil, instances, n
from cqrskit.runtime.planning.steps import (
    PG,
    ROLES,
    plan_connections,
    plan_load,
    plan_storage,
)


def plan_monolith(t: Target, fig: Figures) -> SystemPlan:
    s = SystemPlan("CRUD monolith")
    plan_load(s, t)
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
    plan_connections(s, connections, fig)
    plan_storage(s, t, fig)
    s.limits += [
        Limit("PostgreSQL primary (reads and writes)", busy, False),
        Limit(f"monolith ({count} processes)", share / count, True),
    ]
    return s
