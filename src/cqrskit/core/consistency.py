"""Consistency tokens: read-your-writes on an eventually consistent read side.

A command's answer carries a token naming every stream it wrote and the
version it reached; a query that presents the token waits (bounded) until
each projection of those streams has applied at least that version.

Tokens are signed (an HMAC with the key the two services share): a forged
one, naming versions no command wrote, would otherwise hold a query for the
whole wait. One that fails its check is refused at once (Invalid, a 422).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Sequence

from cqrskit.core.errors import Invalid
from cqrskit.core.messages import (
    CATEGORY_PATTERN,
    ENTITY_PATTERN,
    Ack,
    stream_category,
)
from cqrskit.core.ports import ChangeListener, ReadStore

HEADER = "Consistency-Token"
MAX_TOKEN_LENGTH = 4096
_PAIR = rf"{CATEGORY_PATTERN}-{ENTITY_PATTERN}@[0-9]{{1,18}}"
TOKEN_PATTERN = rf"^{_PAIR}(,{_PAIR})*~[A-Za-z0-9_-]{{22}}$"
"""`cart-c1@3,inventory-MUG-1@7~<signature>`: each stream the command wrote
`@` the version it reached, then 128 bits of HMAC-SHA256 (base64url)."""
_TOKEN = re.compile(TOKEN_PATTERN)


def _signature(key: bytes, pairs: str) -> str:
    mac = hmac.new(key, pairs.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_for(ack: Ack, key: bytes) -> str:
    written = ack.written or ((ack.stream_id, ack.version),)
    pairs = ",".join(f"{sid}@{version}" for sid, version in written)
    return f"{pairs}~{_signature(key, pairs)}"


def parse_token(token: str, key: bytes) -> list[tuple[str, int]]:
    """The one place a token is read: its shape, then its signature."""
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN.fullmatch(token):
        raise Invalid(f"{HEADER} is not a token this service issued")
    text, _, signature = token.rpartition("~")
    if not hmac.compare_digest(signature, _signature(key, text)):
        raise Invalid(f"{HEADER} is not a token this service issued")
    pairs = (pair.rpartition("@") for pair in text.split(","))
    return [(sid, int(version)) for sid, _, version in pairs]


class ConsistencyWaiter(ChangeListener):
    """Waits for a token's versions. Told of checkpoint changes (it is a
    ChangeListener of a `Watchable` store), a wait wakes on each change of one
    of its projections' checkpoints; untold, it polls every `poll_interval`.
    While changes are told it still looks again every `idle_interval`, in
    case a notice went astray."""

    def __init__(
        self,
        store: ReadStore,
        projections: Iterable[tuple[str, frozenset[str]]],
        *,
        poll_interval: float = 0.01,
        idle_interval: float = 0.25,
    ) -> None:
        self._store = store
        self._projections = list(projections)
        self._names = {name for name, _ in self._projections}
        self._poll_interval = poll_interval
        self._idle_interval = idle_interval
        self._told = False
        self._change = asyncio.Event()

    def tracking(self) -> None:
        self._told = True
        self._wake()

    def changed(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        if docs is None or not self._names.isdisjoint(projections):
            self._wake()

    def lost(self) -> None:
        self._told = False
        self._wake()

    def _wake(self) -> None:
        change, self._change = self._change, asyncio.Event()
        change.set()

    async def caught_up(self, pairs: list[tuple[str, int]]) -> bool:
        for name, categories in self._projections:
            wanted = [(s, v) for s, v in pairs if stream_category(s) in categories]
            if not wanted:
                continue
            have = await self._store.stream_versions(name, [s for s, _ in wanted])
            if any(have.get(s, 0) < v for s, v in wanted):
                return False
        return True

    async def wait(self, pairs: list[tuple[str, int]], within: float) -> bool:
        """True once the read side reflects a token's `pairs` (see
        parse_token); False after `within` s."""
        deadline = time.monotonic() + within
        while True:
            change = self._change  # taken first: a change during the check wakes
            if await self.caught_up(pairs):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            pause = self._idle_interval if self._told else self._poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(change.wait(), min(left, pause))
