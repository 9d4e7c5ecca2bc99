"""`index_page` and `search` of a read store that reads a page of an index,
filtered by text or not, in one place (`_entries`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

from cqrskit.core.ports import IndexEntry


class Page(NamedTuple):
    """Which entries of an index to read: up to `limit` after the entry
    `after` (sort key, member; None from the start), in descending order
    when `reverse`."""

    after: tuple[str, str] | None
    limit: int
    reverse: bool


class PagesAndSearches(ABC):
    async def index_page(
        self,
        index: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        return await self._entries(index, Page(after, limit, reverse), contains="")

    async def search(
        self,
        index: str,
        text: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        return await self._entries(index, Page(after, limit, reverse), contains=text)

    @abstractmethod
    async def _entries(self, index: str, page: Page, contains: str) -> list[IndexEntry]:
        """The entries of `page` whose text contains `contains` (literal,
        case-insensitive; "" matches every entry)."""
