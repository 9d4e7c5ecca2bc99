"""The shop's query handlers: one read, bytes out. They change nothing."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import orjson

from cqrskit.core.errors import Invalid, NotFound
from cqrskit.core.ports import IndexEntry, SearchableStore
from cqrskit.shop.models import CURSOR_PATTERN
from cqrskit.shop.views import (
    CATALOG_INDEX,
    cart_key,
    category_index,
    history_index,
    order_key,
    product_key,
)

MAX_LIMIT = 100


_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(entry: IndexEntry) -> str:
    return f"{entry.sort_key}~{entry.member}"


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    if not _CURSOR.fullmatch(cursor):
        raise Invalid("cursor is not one this service returned")
    sort_key, _, member = cursor.rpartition("~")
    return sort_key, member


Fetch = Callable[[tuple[str, str] | None, int], Awaitable[list[IndexEntry]]]
"""A page of an index: the entries after a cursor, at most so many."""


class ShopQueries:
    def __init__(self, store: SearchableStore) -> None:
        self._store = store

    async def _one(self, key: str, what: str, owner: str | None = None) -> bytes:
        """The document; with `owner`, only if it is that customer's: another
        customer's answers exactly as a missing one does."""
        doc = await self._store.get(key)
        if doc is None or (
            owner is not None and orjson.loads(doc).get("customer_id") != owner
        ):
            raise NotFound(f"{what} does not exist")
        return doc

    async def product(self, sku: str) -> bytes:
        return await self._one(product_key(sku), f"product {sku}")

    async def cart(self, cart_id: str, owner: str | None = None) -> bytes:
        return await self._one(cart_key(cart_id), f"cart {cart_id}", owner)

    async def order(self, order_id: str, owner: str | None = None) -> bytes:
        return await self._one(order_key(order_id), f"order {order_id}", owner)

    async def products(
        self, *, q: str | None, category: str | None, limit: int, cursor: str | None
    ) -> bytes:
        index = category_index(category) if category else CATALOG_INDEX

        async def fetch(after: tuple[str, str] | None, count: int) -> list[IndexEntry]:
            if q:
                return await self._store.search(index, q, after=after, limit=count)
            return await self._store.index_page(index, after=after, limit=count)

        return await self._page(fetch, product_key, limit, cursor)

    async def customer_orders(
        self, customer_id: str, *, limit: int, cursor: str | None
    ) -> bytes:
        index = history_index(customer_id)

        async def fetch(after: tuple[str, str] | None, count: int) -> list[IndexEntry]:
            return await self._store.index_page(
                index, after=after, limit=count, reverse=True
            )

        return await self._page(fetch, order_key, limit, cursor)

    async def _page(
        self,
        fetch: Fetch,
        key_of: Callable[[str], str],
        limit: int,
        cursor: str | None,
    ) -> bytes:
        if not 1 <= limit <= MAX_LIMIT:
            raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")
        entries = await fetch(decode_cursor(cursor), limit + 1)
        page = entries[:limit]
        docs = await self._store.get_many([key_of(e.member) for e in page])
        next_cursor = encode_cursor(page[-1]) if len(entries) > limit else None
        items = b",".join(doc for doc in docs if doc is not None)
        return (
            b'{"items":['
            + items
            + b'],"next_cursor":'
            + orjson.dumps(next_cursor)
            + b"}"
        )
