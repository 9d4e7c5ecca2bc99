"""A plan as a person reads it: each system's steps with their arithmetic,
what runs out first, and the figures with where each came from."""

from __future__ import annotations

from cqrskit.runtime.planning.model import Plan, Step, SystemPlan, n, size


def render(plan: Plan) -> str:
    t = plan.target
    lines = [
        f"cqrskit plan: {n(t.reads_per_s)} reads/s and {n(t.writes_per_s)} writes/s"
        f" at peak (peak factor {t.peak_factor:g}, {t.zones} zones, processes at"
        f" {t.headroom:.0%} of their measured ceilings)",
    ]
    for system in (plan.cqrs, plan.monolith):
        lines += ["", *_system(system)]
    lines += ["", "figures (per process; --figures FILE to use your own):"]
    for name, entry in plan.figures.as_dict().items():
        lines.append(f"  {name} = {n(entry['value'])}: {entry['source']}")
    return "\n".join(lines)


def _system(system: SystemPlan) -> list[str]:
    lines = [system.name.upper()]
    for title, steps in system.sections.items():
        lines.append(f"  {title}")
        lines += [f"    {_value(step):<44} = {step.arithmetic}" for step in steps]
    first = system.runs_out_first
    lines.append("  limits at peak (share of the measured ceiling)")
    for limit in sorted(system.limits, key=lambda x: -x.utilisation):
        how = "scales by adding processes" if limit.scales_by_processes else "fixed"
        lines.append(f"    {limit.resource:<44} {limit.utilisation:8.1%}  ({how})")
    lines.append(
        f"  runs out first: {first.resource}, at {first.utilisation:.1%} of its"
        f" ceiling: the target can grow x{1 / first.utilisation:.1f} before it"
        " saturates"
    )
    return lines


def _value(step: Step) -> str:
    if step.unit == "B":
        shown = size(step.value)
    elif step.unit == "B/s":
        shown = f"{size(step.value)}/s"
    elif step.name.endswith("busy at peak"):
        shown = f"{step.value:.1%}"
    else:
        shown = f"{n(step.value)}{step.unit if step.unit == '/s' else ''}"
    return f"{step.name}: {shown}"
