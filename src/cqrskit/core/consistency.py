"""Consistency tokens: read-your-writes on an eventually consistent read side.

A command's answer carries a token naming every stream it wrote and the
version it reached; a query that presents the token waits (bounded) until
each projection of those streams has applied at least that version.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Iterable

import orjson

from cqrskit.core.errors import Invalid
from cqrskit.core.messages import Ack, stream_category
from cqrskit.core.ports import ReadStore

HEADER = "Consistency-Token"


def token_for(ack: Ack) -> str:
    written = ack.written or ((ack.stream_id, ack.version),)
    raw = orjson.dumps([[sid, version] for sid, version in written])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_token(token: str) -> list[tuple[str, int]]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        pairs = [(str(sid), int(version)) for sid, version in raw]
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as e:
        raise Invalid(f"{HEADER} is not a token this service issued") from e
    return pairs


class ConsistencyWaiter:
    def __init__(
        self,
        store: ReadStore,
        projections: Iterable[tuple[str, frozenset[str]]],
        *,
        poll_interval: float = 0.01,
    ) -> None:
        self._store = store
        self._projections = list(projections)
        self._poll_interval = poll_interval

    async def caught_up(self, pairs: list[tuple[str, int]]) -> bool:
        for name, categories in self._projections:
            wanted = [(s, v) for s, v in pairs if stream_category(s) in categories]
            if not wanted:
                continue
            have = await self._store.stream_versions(name, [s for s, _ in wanted])
            if any(have.get(s, 0) < v for s, v in wanted):
                return False
        return True

    async def wait(self, token: str, within: float) -> bool:
        """True once the read side reflects the token; False after `within` s."""
        pairs = parse_token(token)
        deadline = time.monotonic() + within
        while not await self.caught_up(pairs):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self._poll_interval)
        return True
