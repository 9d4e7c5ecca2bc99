"""The relay's leadership loop: acquire the lease, lead, step down, repeat.

A relay that loses its lease (its session ended, it was frozen past its
validity, the database went away) stops publishing at once, gives the lease
up and waits as a standby again: it never exits for it. The lease is renewed
every `renew_every` seconds, well inside its validity, so a healthy leader
never lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from cqrskit.core.backoff import Backoff
from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.ports import Lease, LeaseLost
from cqrskit.core.relay import Relay

log = logging.getLogger(__name__)


async def lead_forever(
    lease: Lease,
    relay: Relay,
    *,
    renew_every: float = 1.0,
    on_change: Callable[[bool], None] = lambda leading: None,
) -> None:
    """Run `relay` whenever this process holds `lease`, until cancelled."""
    backoff = Backoff()
    while True:
        try:
            await lease.acquire()
        except (StoreUnavailable, LeaseLost) as e:
            log.warning("relay cannot take the lease yet: %s", e)
            await backoff.wait()
            continue
        backoff.reset()
        log.info("relay leads")
        on_change(True)
        try:
            await _lead(lease, relay, renew_every)
        finally:
            on_change(False)
            await lease.release()
        log.warning("relay lost its lease; standing by")


async def _lead(lease: Lease, relay: Relay, renew_every: float) -> None:
    """Publish while every renewal succeeds; return when one does not."""
    task = asyncio.create_task(relay.run())
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=renew_every)
            if done:
                return
            if not await lease.renew():
                return
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, LeaseLost):
            await task  # it may have stopped on its own at the lost lease
