"""The read store on Redis: a view is one GET away, bytes in and bytes out.

Documents are plain strings; an ordered index is a ZSET read by lex range with
its entries and their folded text in two hashes; a projection's checkpoints
are a hash. A commit is one Lua script, so a batch of events, its view changes
and its checkpoints take one round trip and apply all or nothing. The key
layout is described in `_keys`, the scripts in `_scripts`. `watch` tells of
every change to documents and checkpoints (`_tracking`), for a query service's
cache of hot views.

If a commit's reply is lost and redis-py retries it, the retry finds the
checkpoints already moved and raises ConcurrencyError; the runner then sees the
batch's events as duplicates, so effects stay exactly once.

A rebuild fills a scratch namespace on the same server; `adopt` then renames a
projection's keys into the live namespace with one Lua script, atomically.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any, cast

import redis.asyncio as redis

from cqrskit.adapters._paging import Page, PagesAndSearches
from cqrskit.adapters.redis._client import UNAVAILABLE, connect, translate_errors
from cqrskit.adapters.redis._keys import Keyspace, lex_member, page_bounds
from cqrskit.adapters.redis._listing import Listing
from cqrskit.adapters.redis._scripts import ADOPT, APPLIED_AGES, COMMIT, PAGE
from cqrskit.adapters.redis._tracking import Tracker
from cqrskit.core.errors import ConcurrencyError, StoreUnavailable
from cqrskit.core.pause import GENERATION
from cqrskit.core.ports import ChangeListener, IndexEntry, VersionMove, ViewChanges

log = logging.getLogger(__name__)

_FILTER_CHUNK = 256
"""How many index members a filtered page fetches from the ZSET at a time."""
_SCAN_BUDGET = 10_000
"""How many members one page script looks at before handing back a resume
bound, so a rare needle on a large index cannot block the server for long."""
_SCRATCH_SUFFIX = ".rebuild-"


class RedisReadStore(Listing, PagesAndSearches):
    def __init__(
        self,
        client: redis.Redis,
        *,
        namespace: str = "cqrskit",
        scratch: bool = False,
    ) -> None:
        if client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("the read store serves bytes: use decode_responses=False")
        self._client = client
        self._keys = Keyspace(namespace)
        self._scratch = scratch
        """A rebuild's scratch: it shares the live store's client, and closing
        it purges its namespace but leaves the client open."""
        self._commit = client.register_script(COMMIT)
        self._page = client.register_script(PAGE)
        self._adopt = client.register_script(ADOPT)
        self._applied = client.register_script(APPLIED_AGES)

    @classmethod
    async def open(cls, url: str, *, namespace: str = "cqrskit") -> RedisReadStore:
        """Connect (settings in the URL's query win over these defaults)."""
        client = connect(url, decode_responses=False)
        try:
            store = cls(client, namespace=namespace)
            await store.load_scripts()
        except BaseException:
            await client.aclose()
            raise
        return store

    @property
    def namespace(self) -> str:
        return self._keys.namespace

    async def load_scripts(self) -> None:
        """Send the scripts to the server now, so that each later call is one
        EVALSHA (redis-py also reloads them if the server forgot them)."""
        with translate_errors():
            for script in (self._commit, self._page, self._adopt, self._applied):
                script.sha = await self._client.script_load(script.script)

    async def watch(self, listener: ChangeListener) -> None:
        """Changes to this namespace's documents and checkpoints, by any
        writer, told through Redis client tracking (`_tracking`)."""
        await Tracker(self._client, self._keys).run(listener)

    async def applied_ages(self, projections: Sequence[str]) -> dict[str, float]:
        """By the server's clock, one round trip (`core.visible`)."""
        keys = [self._keys.checkpoints(name) for name in projections]
        with translate_errors():
            now, *applied = await self._applied(keys, [])
        return {
            name: float(now) - float(when)
            for name, when in zip(projections, applied, strict=True)
            if when is not None
        }

    async def get(self, key: str) -> bytes | None:
        with translate_errors():
            value = await self._client.get(self._keys.doc(key))
        return cast(bytes | None, value)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        with translate_errors():
            values = await self._client.mget([self._keys.doc(k) for k in keys])
        return cast(list[bytes | None], values)

    async def _entries(self, index: str, page: Page, contains: str) -> list[IndexEntry]:
        after, limit, reverse = page
        needle = contains.lower().encode() if contains else b""
        chunk = max(limit, _FILTER_CHUNK) if needle else limit
        start, stop = page_bounds(after, reverse)
        found: list[IndexEntry] = []
        while len(found) < limit:
            remaining = limit - len(found)
            args = (start, stop, int(reverse), remaining, needle, chunk, _SCAN_BUDGET)
            with translate_errors():
                reply = await self._page(self._keys.index(index), args)
            resume, *fields = reply
            found.extend(
                IndexEntry(m.decode(), k.decode(), t.decode())
                for m, k, t in zip(fields[::3], fields[1::3], fields[2::3], strict=True)
            )
            if not resume:
                break
            start = resume
        return found

    async def stream_versions(
        self, projection: str, stream_ids: Sequence[str]
    ) -> dict[str, int]:
        if not stream_ids:
            return {}
        with translate_errors():
            values = await self._client.hmget(
                self._keys.checkpoints(projection), list(stream_ids)
            )
        return {
            sid: int(v) if v is not None else 0
            for sid, v in zip(stream_ids, values, strict=True)
        }

    async def commit(
        self,
        projection: str,
        changes: ViewChanges,
        versions: Mapping[str, VersionMove],
    ) -> None:
        if not changes and not versions:
            return
        keys, args = self._commit_call(projection, changes, versions)
        with translate_errors():
            reply = await self._commit(keys, args)
        if reply != 1:
            stream, current = reply
            raise ConcurrencyError(
                f"{projection}: the checkpoint of {stream.decode()} is at version "
                f"{current}, expected {versions[stream.decode()].expected}"
            )

    async def scratch(self) -> RedisReadStore:
        """An empty store on a fresh namespace `{ns}.rebuild-{hex}` of the same
        server and client. Closing it deletes what is left in its namespace."""
        suffix = f"{_SCRATCH_SUFFIX}{secrets.token_hex(6)}"
        namespace = self.namespace[: 64 - len(suffix)] + suffix
        return RedisReadStore(self._client, namespace=namespace, scratch=True)

    async def adopt(
        self,
        scratch: RedisReadStore,
        projection: str,
        prefixes: Sequence[str],
        generation: VersionMove,
    ) -> None:
        """Replace the keys owned by `prefixes` and `projection`'s checkpoints
        with the scratch namespace's: SCAN finds both sides' keys, then one Lua
        script checks the generation, drops the live keys and renames the
        scratch ones into place.

        The caller holds the projection paused, so no live projector creates a
        key between the SCAN and the script; if the pause was broken meanwhile,
        the script's generation check refuses the whole swap.
        """
        if scratch._client is not self._client or scratch.namespace == self.namespace:
            raise TypeError("a Redis read store adopts only a scratch of its own")
        drops: list[str | bytes] = [*await self._owned(prefixes)]
        moves: list[str | bytes] = []
        for key in await scratch._owned(prefixes):
            moves += (key, scratch._keys.move(key, self._keys))
        moves += (
            scratch._keys.checkpoints(projection),
            self._keys.checkpoints(projection),
        )
        keys = [self._keys.checkpoints(projection), *drops, *moves]
        args: list[str | int] = [
            len(drops),
            GENERATION,
            generation.expected,
            generation.new,
        ]
        with translate_errors():
            reply = await self._adopt(keys, args)
        if isinstance(reply, list):
            raise ConcurrencyError(
                f"{projection}: the generation is {reply[1]}, "
                f"expected {generation.expected}"
            )

    async def close(self) -> None:
        """Close the connection pool (a scratch store instead deletes what is
        left in its namespace). Safe to repeat."""
        if self._scratch:
            try:
                await self.purge()
            except StoreUnavailable as e:
                log.warning("scratch namespace %s left behind: %s", self.namespace, e)
            return
        with suppress(*UNAVAILABLE):
            await self._client.aclose()

    def _commit_call(
        self,
        projection: str,
        changes: ViewChanges,
        versions: Mapping[str, VersionMove],
    ) -> tuple[list[Any], list[Any]]:
        """The KEYS and ARGV of the commit script (laid out in `_scripts`)."""
        sets = [(k, v) for k, v in changes.docs.items() if v is not None]
        dels = [k for k, v in changes.docs.items() if v is None]
        by_index: dict[str, tuple[list[str], list[IndexEntry]]] = {}
        for index, member in sorted(changes.index_removes):
            by_index.setdefault(index, ([], []))[0].append(member)
        for (index, _), entry in changes.index_puts.items():
            by_index.setdefault(index, ([], []))[1].append(entry)

        keys: list[Any] = [self._keys.checkpoints(projection)]
        args: list[Any] = [len(versions), len(sets), len(dels), len(by_index)]
        for sid, move in versions.items():
            args += (sid, move.expected, move.new)
        keys += (self._keys.doc(k) for k, _ in sets)
        args += (v for _, v in sets)
        keys += (self._keys.doc(k) for k in dels)
        for index, (removes, puts) in by_index.items():
            keys += self._keys.index(index)
            args += (len(removes), len(puts), *removes)
            for e in puts:
                lex_member(e.sort_key, e.member)  # rejects NUL before any write
                args += (e.member, e.sort_key, e.text, e.text.lower())
        return keys, args
