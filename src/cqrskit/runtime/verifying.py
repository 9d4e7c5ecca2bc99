"""`cqrskit verify`: live read models compared with a fresh fold of the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.core.application import Application
from cqrskit.core.pause import Pauses
from cqrskit.core.verify import Difference, verify
from cqrskit.runtime.rebuilding import Progress, both_stores, chosen_projections
from cqrskit.runtime.redaction import masked
from cqrskit.runtime.settings import Settings

SHOWN = 160
"""How many characters of a value a difference shows."""


def _cut(value: str | None) -> str:
    if value is None:
        return "(missing)"
    return value if len(value) <= SHOWN else f"{value[:SHOWN]}... ({len(value)} chars)"


def describe(difference: Difference) -> str:
    return (
        f"  {difference.key}\n"
        f"    live:     {_cut(difference.live)}\n"
        f"    expected: {_cut(difference.expected)}"
    )


async def verify_views(
    app: Application[Any, Any],
    settings: Settings,
    name: str | None,
    *,
    page: int = 1000,
    out: Callable[[str], None] = print,
) -> list[Difference]:
    """Print the differences found (and progress); return them."""
    projections = chosen_projections(app, name)
    async with both_stores(settings) as (store, target):
        names = ", ".join(p.name for p in projections)
        out(f"verifying {names} against {masked(settings.event_store_url)}")
        progress = Progress(out)
        started = time.monotonic()
        differences = await verify(
            store,
            target,
            InMemoryReadStore(),
            projections,
            Pauses(target),
            page=page,
            progress=progress,
            wait=asyncio.sleep,
        )
        elapsed = time.monotonic() - started
        rate = progress.done / max(elapsed, 1e-9)
        out(
            f"folded {progress.done:,} events in {elapsed:.1f} s ({rate:,.0f} events/s)"
        )
        for difference in differences:
            out(describe(difference))
        verdict = f"{len(differences)} differences" if differences else "clean"
        out(f"{names}: {verdict}")
        return differences
