"""The demo catalog, appended through the command side alone: the relay and
projectors of whichever topology runs (or starts next) carry it to the read
side, so `cqrskit up --demo` and `cqrskit demo-data` need no read store."""

from __future__ import annotations

from cqrskit.runtime import adapters, bootstrap
from cqrskit.runtime.settings import Settings
from cqrskit.shop.demo import load_demo_data


async def load_demo_catalog(settings: Settings) -> int:
    """The number of products added (0 when they were there already)."""
    event_store = await adapters.open_event_store(settings.event_store_url)
    try:
        side = bootstrap.command_side(
            event_store, memory=bootstrap.FoldMemory.from_settings(settings)
        )
        try:
            return await load_demo_data(side.commands)
        finally:
            await side.drain()
    finally:
        await event_store.close()
