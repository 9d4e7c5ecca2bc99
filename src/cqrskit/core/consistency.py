"""Consistency tokens: read-your-writes on an eventually consistent read side.

A command's answer carries a token naming every stream it wrote and the
version it reached; a query that presents the token waits (bounded) until
each projection of those streams has applied at least that version.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable

from cqrskit.core.errors import Invalid
from cqrskit.core.messages import (
    CATEGORY_PATTERN,
    ENTITY_PATTERN,
    Ack,
    stream_category,
)
from cqrskit.core.ports import ReadStore

HEADER = "Consistency-Token"
MAX_TOKEN_LENGTH = 4096
_PAIR = rf"{CATEGORY_PATTERN}-{ENTITY_PATTERN}@[0-9]{{1,18}}"
TOKEN_PATTERN = rf"^{_PAIR}(,{_PAIR})*$"
"""`cart-c1@3,inventory-MUG-1@7`: each stream the command wrote `@` the
version it reached. Every string of this shape (up to MAX_TOKEN_LENGTH) is a
token a query accepts, so the OpenAPI documents can say exactly which."""
_TOKEN = re.compile(TOKEN_PATTERN)


def token_for(ack: Ack) -> str:
    written = ack.written or ((ack.stream_id, ack.version),)
    return ",".join(f"{sid}@{version}" for sid, version in written)


def parse_token(token: str) -> list[tuple[str, int]]:
    """The one place a token is read (signing it will change only this pair)."""
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN.fullmatch(token):
        raise Invalid(f"{HEADER} is not a token this service issued")
    pairs = (pair.rpartition("@") for pair in token.split(","))
    return [(sid, int(version)) for sid, _, version in pairs]


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
