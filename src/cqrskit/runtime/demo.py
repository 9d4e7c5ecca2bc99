"""An application's demo data, appended through the command side alone: the
relay and projectors of whichever topology runs (or starts next) carry it to
the read side, so `cqrskit up --demo` and `cqrskit demo-data` need no read
store."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from cqrskit.core.application import Application
from cqrskit.runtime.roles import command_role
from cqrskit.runtime.settings import Settings


class NoDemoData(ValueError):
    pass


async def load_demo_catalog(app: Application[Any, Any], settings: Settings) -> int:
    """The number of items added (0 when they were there already)."""
    if app.demo is None:
        raise NoDemoData(f"the application {app.name!r} has no demo data")
    async with AsyncExitStack() as stack:
        side = await command_role(app, settings, stack)
        return await app.demo(side.commands)
