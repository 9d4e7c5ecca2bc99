"""`index_page` and `search` of a read store that reads a page of an index,
filtered by text or not, in one place (`_entries`)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from cqrskit.core.ports import IndexEntry


class PagesAndSearches(ABC):
    async def index_page(
        self,
        index: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        return await self._entries(index, after, limit, reverse, contains="")

    async def search(
        self,
        index: str,
        text: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        return await self._entries(index, after, limit, reverse, contains=text)

    @abstractmethod
    async def _entries(
        self,
        index: str,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool,
        *,
        contains: str,
    ) -> list[IndexEntry]:
        """Up to `limit` entries after `after` whose text contains `contains`
        (literal, case-insensitive; "" matches every entry)."""
