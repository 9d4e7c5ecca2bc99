"""A projection's window on the read store for one batch (see `projection`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from cqrskit.core.ports import IndexEntry, ReadStore, ViewChanges


class View:
    """A projection's window on the read store for one batch: reads see the
    batch's own writes; nothing is written until the runner commits.

    A document kept as JSON (`put_json`) stays a Python value for the rest of
    the batch and is encoded once, when the batch's `changes` are taken: a
    projection that changes one document with each of a batch's events then
    decodes and encodes it once per batch, not once per event."""

    def __init__(self, store: ReadStore) -> None:
        self._store = store
        self._read: dict[str, bytes | None] = {}
        self._json: dict[str, Any] = {}
        self._changes = ViewChanges.empty()

    @property
    def changes(self) -> ViewChanges:
        """What the batch wrote (the JSON documents encoded now)."""
        for key, doc in self._json.items():
            self._changes.docs[key] = orjson.dumps(doc)
        self._json.clear()
        return self._changes

    async def prefetch(self, keys: Sequence[str]) -> None:
        """Read the documents a batch will need in one round trip."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._read]
        if wanted:
            self._read.update(
                zip(wanted, await self._store.get_many(wanted), strict=True)
            )

    async def get(self, key: str) -> bytes | None:
        if key in self._json:
            return orjson.dumps(self._json[key])
        if key in self._changes.docs:
            return self._changes.docs[key]
        if key not in self._read:
            self._read[key] = await self._store.get(key)
        return self._read[key]

    async def get_json(self, key: str) -> Any:
        """The document decoded from JSON (None if there is none). One put with
        `put_json` is the same object: change it, then put it again."""
        if key in self._json:
            return self._json[key]
        raw = await self.get(key)
        return None if raw is None else orjson.loads(raw)

    def put(self, key: str, value: bytes) -> None:
        self._json.pop(key, None)
        self._changes.docs[key] = value

    def put_json(self, key: str, doc: Any) -> None:
        """Put a document as JSON, encoded when the batch commits."""
        self._json[key] = doc

    def delete(self, key: str) -> None:
        self._json.pop(key, None)
        self._changes.docs[key] = None

    def index_put(self, index: str, entry: IndexEntry) -> None:
        self._changes.index_removes.discard((index, entry.member))
        self._changes.index_puts[(index, entry.member)] = entry

    def index_remove(self, index: str, member: str) -> None:
        self._changes.index_puts.pop((index, member), None)
        self._changes.index_removes.add((index, member))
