"""An application's demo data, appended through the command side alone: the
relay and projectors of whichever topology runs (or starts next) carry it to
the read side, so `cqrskit up --demo` and `cqrskit demo-data` need no read
store."""

from __future__ import annotations

from typing import Any

from cqrskit.core.application import Application
from cqrskit.runtime import adapters, bootstrap
from cqrskit.runtime.settings import Settings


class NoDemoData(ValueError):
    pass


async def load_demo_catalog(app: Application[Any, Any], settings: Settings) -> int:
    """The number of items added (0 when they were there already)."""
    if app.demo is None:
        raise NoDemoData(f"the application {app.name!r} has no demo data")
    event_store = await adapters.open_event_store(settings.event_store_url)
    try:
        side = bootstrap.command_side(
            app, event_store, memory=bootstrap.FoldMemory.from_settings(settings)
        )
        try:
            return await app.demo(side.commands)
        finally:
            await side.drain()
    finally:
        await event_store.close()
