"""The operator's console side: what the web console reads and does.

The console reads the event store (streams, their audit trail, a stream's
state at any version) and the read store (lag, parked streams), and retries a
parked stream as `cqrskit dlq retry` does. It is a role of its own (`cqrskit
serve console`): the query service is never given the event store's address
(DESIGN.md rule 5). `cqrskit run` hands it the one-process system's stores.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from cqrskit.core.application import Application
from cqrskit.core.deadletter import Parked, parked
from cqrskit.core.errors import Invalid, NotFound
from cqrskit.core.history import StateAt, last_version, state_at
from cqrskit.core.messages import RecordedEvent, stream_category
from cqrskit.core.ports import (
    EventLog,
    Membership,
    ReadStore,
    StreamCatalog,
    StreamSummary,
)
from cqrskit.core.projection import Projection
from cqrskit.core.redrive import take_up
from cqrskit.runtime import adapters
from cqrskit.runtime.roles import DEFAULT, Openers
from cqrskit.runtime.settings import Settings
from cqrskit.runtime.status import Status, status_of


@dataclass
class ConsoleSide:
    app: Application[Any, Any]
    settings: Settings
    events: EventLog
    views: ReadStore
    membership: Membership | None = None
    """Who the live projectors are (None with the in-process broker)."""

    @property
    def projections(self) -> list[Projection]:
        return self.app.projection_list()

    @property
    def catalog(self) -> StreamCatalog:
        if not isinstance(self.events, StreamCatalog):
            raise NotFound("this event store cannot list its streams")
        return self.events

    async def streams(
        self, prefix: str, after: str | None, limit: int
    ) -> list[StreamSummary]:
        return await self.catalog.streams(prefix, after, limit)

    async def trail(
        self, stream_id: str, from_version: int, limit: int
    ) -> tuple[list[RecordedEvent], int]:
        """A page of the stream's events and its last version (NotFound for a
        stream without events, Invalid for a page past its end)."""
        last = await last_version(self.catalog, stream_id)
        if from_version > last:
            raise Invalid(f"stream {stream_id} ends at version {last}")
        return await self.catalog.read_stream_page(stream_id, from_version, limit), last

    def shows_state(self, stream_id: str) -> bool:
        return stream_category(stream_id) in self.app.states

    async def state(self, stream_id: str, version: int | None) -> StateAt:
        app = self.app
        return await state_at(self.catalog, app.codec, app.states, stream_id, version)

    async def status(self) -> Status:
        members = await self.membership.members() if self.membership else []
        return await status_of(
            self.events, self.views, self.settings, self.projections, members
        )

    async def parked(self) -> list[Parked]:
        return [r for p in self.projections for r in await parked(self.views, p.name)]

    async def retry(self, projection: str, stream_id: str) -> Parked | None:
        """Take a parked stream up again; None once it is unparked, else the
        record of the event that failed again (NotFound if not parked)."""
        chosen = [p for p in self.projections if p.name == projection]
        if not chosen:
            raise NotFound(f"no projection {projection!r}")
        return await take_up(self.events, self.views, chosen[0], stream_id, skip=False)


async def console_role(
    app: Application[Any, Any],
    settings: Settings,
    stack: AsyncExitStack,
    openers: Openers = DEFAULT,
) -> ConsoleSide:
    """The console's side: the event store, the read store and, beside a
    durable broker, the projectors' membership."""
    events = await openers.events(stack, settings)
    views = await openers.views(stack, settings)
    membership = None
    if not settings.broker_url.startswith("memory://"):
        membership = await adapters.open_membership(settings.read_store_url)
        stack.push_async_callback(membership.close)
    return ConsoleSide(app, settings, events, views, membership)
