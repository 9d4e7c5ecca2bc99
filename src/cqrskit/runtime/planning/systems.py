"""The two systems planned for one target: the CQRS topology, with each side
scaled on its own, and the CRUD monolith, whose one database carries both."""

from __future__ import annotations

from cqrskit.runtime.planning.cqrs import plan_cqrs
from cqrskit.runtime.planning.figures import Figures
from cqrskit.runtime.planning.model import Plan, Target
from cqrskit.runtime.planning.monolith import plan_monolith


def plan(target: Target, figures: Figures) -> Plan:
    return Plan(
        target, figures, plan_cqrs(target, figures), plan_monolith(target, figures)
    )
