"""What a plan is made of: the target, the steps with their arithmetic,
the limits, and the small helpers every system's plan uses.

Processes are planned to run at `headroom` of their measured ceiling and
spread over zones so that losing one zone leaves enough (with one zone: one
spare)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from cqrskit.core.errors import Invalid
from cqrskit.runtime.planning.figures import Figures

DAY = 86_400
MIN_PARTITIONS = 8


@dataclass(frozen=True, slots=True)
class Target:
    reads_per_s: float
    writes_per_s: float
    events_per_command: float = 2.0
    event_bytes: float = 600
    view_bytes: float = 1_000
    views_per_write: float = 0.2
    view_retention_days: float = 90
    wal_retention_days: float = 7
    peak_factor: float = 3.0
    zones: int = 3
    headroom: float = 0.7

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value <= 0:
                raise Invalid(f"{name} must be positive, not {value}")
        if self.peak_factor < 1 or self.headroom > 1:
            raise Invalid("peak_factor must be at least 1 and headroom at most 1")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    value: float
    unit: str
    arithmetic: str


@dataclass(frozen=True, slots=True)
class Limit:
    resource: str
    utilisation: float
    """Demand at peak over the measured ceiling (1.0: saturated)."""
    scales_by_processes: bool


@dataclass(slots=True)
class SystemPlan:
    name: str
    sections: dict[str, list[Step]] = field(default_factory=dict)
    limits: list[Limit] = field(default_factory=list)

    def step(self, section: str, name: str, value: float, unit: str, how: str) -> float:
        self.sections.setdefault(section, []).append(Step(name, value, unit, how))
        return value

    @property
    def runs_out_first(self) -> Limit:
        fixed = [limit for limit in self.limits if not limit.scales_by_processes]
        return max(fixed, key=lambda limit: limit.utilisation)

    def as_dict(self) -> dict[str, Any]:
        first = self.runs_out_first
        return {
            "sections": {
                title: [asdict(step) for step in steps]
                for title, steps in self.sections.items()
            },
            "limits": [asdict(limit) for limit in self.limits],
            "runs_out_first": asdict(first) | {"growth": 1 / first.utilisation},
        }


@dataclass(frozen=True, slots=True)
class Plan:
    target: Target
    figures: Figures
    cqrs: SystemPlan
    monolith: SystemPlan

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": asdict(self.target),
            "cqrs": self.cqrs.as_dict(),
            "monolith": self.monolith.as_dict(),
            "figures": self.figures.as_dict(),
        }


def ceil(x: float) -> int:
    """Round up, ignoring float noise: 8.4 / 0.7 is 12, not 12.000000000000002."""
    return math.ceil(round(x, 9))


def n(x: float) -> str:
    """A number as a person reads it: 20,000 or 6,666.67."""
    return f"{round(x):,}" if float(x).is_integer() else f"{x:,.2f}"


def size(x: float) -> str:
    """Bytes in decimal units, as storage is priced."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if x >= scale:
            return f"{x / scale:,.2f} {unit}"
    return f"{x:,.0f} B"


def instances(
    system: SystemPlan, section: str, role: str, needed: int, zones: int
) -> int:
    """Spread `needed` so that losing one zone (or, in one zone, one
    instance) still leaves `needed` running."""
    if zones == 1:
        how = f"{needed} + 1 spare (one zone: survive losing one instance)"
        return int(system.step(section, f"{role} instances", needed + 1, "", how))
    per_zone = ceil(needed / (zones - 1))
    how = (
        f"ceil({needed} / ({zones} - 1) zones) = {per_zone} per zone "
        f"x {zones} zones (one zone may fail)"
    )
    return int(system.step(section, f"{role} instances", per_zone * zones, "", how))


def needed(
    system: SystemPlan, section: str, role: str, demand: float, ceiling: float, h: float
) -> int:
    count = max(1, ceil(demand / (ceiling * h)))
    how = f"ceil({n(demand)} / ({n(ceiling)} x {h:g})) per process at {h:.0%}"
    return int(system.step(section, f"{role} processes needed", count, "", how))
