"""The hot-SKU and long-stream tables of bench/compare.sh's section (issue 8),
from the result lines of bench/hot_sku.py and bench/long_streams.py;
bench/compare_report.py places them.
"""

from __future__ import annotations

import math

HOT_TARGET = 0.5
"""Hot-SKU orders/s over spread orders/s, at least (issue 8)."""
LONG_TARGET = 2.0
"""A command on a long stream over the same on a new stream, at most (issue 8)."""
LONG_TARGET_LOADS = ("cold", "warm")
"""The loads the target holds for; `first` folds the whole stream once."""

Results = dict[str, dict[str, object]]


def fmt(value: object, spec: str) -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "-"
    return format(value, spec)


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def hot_sku_rows(results: Results) -> list[str]:
    """Spread against hot, and their ratio against the target."""
    found = results.get("hot_sku")
    if not found:
        return ["Hot SKU (bench/hot_sku.py): not measured in this run.", ""]
    ratio = found.get("ratio")
    goal = f"≥ {HOT_TARGET:g}"
    if isinstance(ratio, float):
        goal += f": {met(ratio >= HOT_TARGET)}"
    lines = [
        f"Orders on one hot SKU against spread SKUs ({found.get('setup')}; each "
        "order with a cart of its own, bench/place_orders.lua):",
        "",
        "| scenario | orders/s | p50 ms | p99 ms | non-2xx | conflict retries / order"
        " | hot / spread | target (issue 8) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    labels = (("spread", "spread: a SKU per client"), ("hot", "hot: one SKU"))
    for name, label in labels:
        r = found.get(name)
        r = r if isinstance(r, dict) else {}
        last = name == "hot"
        lines.append(
            f"| {label} | {fmt(r.get('per_s'), ',.0f')} | {fmt(r.get('p50_ms'), '.1f')}"
            f" | {fmt(r.get('p99_ms'), '.1f')} | {fmt(r.get('errors'), ',.0f')}"
            f" | {fmt(r.get('retries_per_order'), '.3f')}"
            f" | {fmt(ratio, '.2f') if last else ''} | {goal if last else ''} |"
        )
    return [*lines, ""]


def long_stream_rows(results: Results) -> list[str]:
    """Each (length, command, load) cell with its ratio to the new stream."""
    found = results.get("long_streams", {})
    cells = found.get("rows")
    if not isinstance(cells, list):
        return ["Long streams (bench/long_streams.py): not measured in this run.", ""]
    lines = [
        "A command on a long stream: an order of one unit and a restock on a SKU "
        "whose inventory stream already holds that many reservations "
        f"({found.get('setup')}); `first`: a new process, no snapshot yet; "
        "`cold`: a new process once the snapshot exists; `warm`: the same process "
        "again (cached state).",
        "",
        "| earlier events | command | load | p50 ms | p90 ms | p50 / new stream"
        " | target (issue 8) |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    for c in cells:
        ratio, goal = c.get("ratio"), ""
        if c.get("events") and c.get("load") in LONG_TARGET_LOADS:
            goal = f"≤ {LONG_TARGET:g}x"
            if isinstance(ratio, float):
                goal += f": {met(ratio <= LONG_TARGET)}"
        lines.append(
            f"| {fmt(c.get('events'), ',')} | {c.get('command')} | {c.get('load')}"
            f" | {fmt(c.get('p50_ms'), '.2f')} | {fmt(c.get('p90_ms'), '.2f')}"
            f" | {fmt(ratio, '.2f')} | {goal} |"
        )
    return [*lines, ""]
