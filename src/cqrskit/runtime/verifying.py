"""`cqrskit verify`: live read models compared with a fresh fold of the log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.core.application import Application
from cqrskit.core.pause import Pauses
from cqrskit.core.verify import Difference, verify
from cqrskit.runtime.rebuilding import operator_run
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
    live: bool = False,
) -> list[Difference]:
    """Print the differences found (and progress, redrawn in place when
    `live`); return them."""
    heading = "verifying {names} against {url}"
    async with operator_run(app, settings, name, heading, out, live) as run:
        differences = await verify(
            run.store,
            run.target,
            InMemoryReadStore(),
            run.projections,
            Pauses(run.target),
            page=page,
            progress=run.progress,
            wait=asyncio.sleep,
        )
        run.progress.finish()
        elapsed = run.elapsed
        done = run.progress.done
        rate = done / max(elapsed, 1e-9)
        out(f"folded {done:,} events in {elapsed:.1f} s ({rate:,.0f} events/s)")
        for difference in differences:
            out(describe(difference))
        verdict = f"{len(differences)} differences" if differences else "clean"
        out(f"{run.names}: {verdict}")
        return differences
