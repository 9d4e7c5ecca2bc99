"""`cqrskit plan`: the back-of-the-envelope capacity calculation, worked out.

Pure arithmetic: a target (peak rates, sizes, retention, zones) divided by
per-process ceilings measured by the benchmarks (figures.toml). Every number
comes as a step with the arithmetic that made it, so a reader can check it,
and the same target is planned for the CRUD monolith beside the CQRS
topology. What runs out first is the busiest resource that adding processes
does not scale: for CQRS the event store's primary, the single active relay,
the projectors once there is one per partition; for the monolith its one
database.
"""

from cqrskit.runtime.planning.figures import Figures
from cqrskit.runtime.planning.model import Plan, Target
from cqrskit.runtime.planning.systems import plan
from cqrskit.runtime.planning.text import render

__all__ = ["Figures", "Plan", "Target", "plan", "render"]
