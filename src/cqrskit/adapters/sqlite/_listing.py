"""The read store's reads of a projection's rows a chunk at a time: the rows its
prefixes own (which `adopt` copies out of a scratch store), listed for
`cqrskit verify` (`Inspectable`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cqrskit.adapters.sqlite._database import SqliteDatabase, placeholders
from cqrskit.core.ports import IndexEntry

_ADOPT_CHUNK = 1000
"""How many rows of a scratch store one read fetches when adopting."""


class Listing:
    """Of `SqliteReadStore`: what it lists, a chunk at a time."""

    _db: SqliteDatabase

    async def checkpoints(self, projection: str) -> dict[str, int]:
        rows = await self._read_all(
            "checkpoints",
            ("projection", "stream_id", "version"),
            2,
            "projection = ?",
            [projection],
        )
        return {sid: version for _, sid, version in rows}

    async def documents(self, prefixes: Sequence[str]) -> dict[str, bytes]:
        docs, _, _ = await self._owned_rows("", prefixes)
        return {key: bytes(value) for key, value in docs}

    async def index_entries(
        self, prefixes: Sequence[str]
    ) -> dict[str, list[IndexEntry]]:
        _, rows, _ = await self._owned_rows("", prefixes)
        found: dict[str, list[IndexEntry]] = {}
        for index, member, sort_key, text, _folded in rows:
            found.setdefault(index, []).append(IndexEntry(member, sort_key, text))
        for entries in found.values():
            entries.sort(key=lambda e: (e.sort_key, e.member))
        return found

    async def _owned_rows(
        self, projection: str, prefixes: Sequence[str]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """This store's docs, index entries and checkpoints that `adopt` moves."""
        docs: dict[Any, tuple[Any, ...]] = {}
        entries: dict[Any, tuple[Any, ...]] = {}
        for prefix in dict.fromkeys(prefixes):
            where, params = starts_with("key", prefix)
            for row in await self._read_all("docs", ("key", "value"), 1, where, params):
                docs[row[0]] = row
            where, params = starts_with("index_name", prefix)
            columns = ("index_name", "member", "sort_key", "text", "folded")
            for row in await self._read_all("index_entries", columns, 2, where, params):
                entries[row[:2]] = row
        versions = await self._read_all(
            "checkpoints",
            ("projection", "stream_id", "version"),
            2,
            "projection = ?",
            [projection],
        )
        return list(docs.values()), list(entries.values()), versions

    async def _read_all(
        self,
        table: str,
        columns: Sequence[str],
        key_count: int,
        where: str,
        params: Sequence[Any],
    ) -> list[tuple[Any, ...]]:
        """Every row matching `where`, a chunk at a time in primary key order
        (the first `key_count` columns are the key the chunks resume after)."""
        key = ", ".join(columns[:key_count])
        rows: list[tuple[Any, ...]] = []
        after: list[Any] = []
        while True:
            resume = f" AND ({key}) > ({placeholders(key_count)})" if after else ""
            chunk = await self._db.fetch(
                f"SELECT {', '.join(columns)} FROM {table} WHERE {where}{resume}"
                f" ORDER BY {key} LIMIT ?",
                [*params, *after, _ADOPT_CHUNK],
            )
            rows.extend(tuple(row) for row in chunk)
            if len(chunk) < _ADOPT_CHUNK:
                return rows
            after = list(rows[-1][:key_count])


def starts_with(column: str, prefix: str) -> tuple[str, list[str]]:
    """A condition that `column` starts with `prefix`, literally (no LIKE, so
    `%` and `_` mean themselves) and as a range, so that it uses the primary
    key. It is exact: the BINARY collation compares UTF-8 bytes, whose order
    is code point order, and the values starting with `prefix` are exactly
    those from `prefix` up to (not including) its successor."""
    upper = _successor(prefix)
    if upper is None:
        return f"{column} >= ?", [prefix]
    return f"{column} >= ? AND {column} < ?", [prefix, upper]


def _successor(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix`, or None
    if there is none (the prefix is empty or all U+10FFFF)."""
    for i in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[i]) + 1
        if code == 0xD800:  # surrogates are not characters; skip past them
            code = 0xE000
        if code <= 0x10FFFF:
            return prefix[:i] + chr(code)
    return None
