"""Opening a service's store in the background of its lifespan.

A service starts serving at once, whether or not its store is reachable:
/healthz answers 200, /readyz 503, and every other route a 503 problem with
Retry-After, until the store opens; the opening is retried with backoff for
as long as it takes (DESIGN.md rule 10). A misconfiguration found in the
first moments (an error that is not StoreUnavailable) still stops the start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TypeVar

from fastapi import FastAPI

from cqrskit.core.backoff import until_available
from cqrskit.core.errors import StoreUnavailable

S = TypeVar("S")
log = logging.getLogger(__name__)
FIRST_WAIT = 2.0
"""How long the start waits for a first opening, so a store that answers at
once is open before the first request and a refused configuration stops it."""


@asynccontextmanager
async def opened_in_background(
    app: FastAPI, provider: Callable[[], AbstractAsyncContextManager[S]], what: str
) -> AsyncIterator[None]:
    """Set `app.state.side` from `provider` once it opens; close it at the end."""
    app.state.side = None
    opened = asyncio.Event()

    async def hold() -> None:
        async with AsyncExitStack() as stack:
            app.state.side = await until_available(
                lambda: stack.enter_async_context(provider()), what
            )
            opened.set()
            try:
                await asyncio.Event().wait()  # until cancelled at shutdown
            finally:
                app.state.side = None

    task = asyncio.create_task(hold(), name=f"open {what}")
    task.add_done_callback(_report)
    waiter = asyncio.create_task(opened.wait())
    await asyncio.wait(
        {task, waiter}, timeout=FIRST_WAIT, return_when="FIRST_COMPLETED"
    )
    waiter.cancel()
    if task.done():
        task.result()  # a misconfiguration: stop the start with it
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _report(task: asyncio.Task[None]) -> None:
    """A misconfiguration found after the start leaves the routes at 503: say why."""
    if not task.cancelled() and task.exception() is not None:
        log.error("giving up: %s", task.exception())


def opened_side(app: FastAPI, what: str) -> object:
    """The opened side, or StoreUnavailable (a 503) while it is not open yet."""
    side = getattr(app.state, "side", None)
    if side is None:
        raise StoreUnavailable(f"{what} is not reachable yet; retry")
    return side
