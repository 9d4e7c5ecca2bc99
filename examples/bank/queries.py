"""The bank's query handlers: one read of a document stored in the shape of
its answer, bytes out. They change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson

from cqrskit.core.errors import Invalid, NotFound
from cqrskit.core.ports import ReadStore
from examples.bank.models import CURSOR_PATTERN
from examples.bank.views import account_key, owner_index, statement_index

_CURSOR = re.compile(CURSOR_PATTERN)


class BankQueries:
    def __init__(self, store: ReadStore) -> None:
        self._store = store

    async def account(self, account_id: str, owner: str | None) -> bytes:
        """The account; with `owner`, only if it is that customer's: another
        customer's answers exactly as a missing one does."""
        doc = await self._store.get(account_key(account_id))
        if doc is None or (
            owner is not None and orjson.loads(doc)["owner_id"] != owner
        ):
            raise NotFound(f"account {account_id} does not exist")
        return doc

    async def statement(
        self, account_id: str, owner: str | None, limit: int, cursor: str | None
    ) -> bytes:
        """The account's movements, newest first."""
        await self.account(account_id, owner)
        return await self._page(
            statement_index(account_id), lambda key: key, limit, cursor
        )

    async def accounts_of(self, owner_id: str, limit: int, cursor: str | None) -> bytes:
        return await self._page(owner_index(owner_id), account_key, limit, cursor)

    async def _page(
        self, index: str, key_of: Callable[[str], str], limit: int, cursor: str | None
    ) -> bytes:
        entries = await self._store.index_page(
            index, after=_decode(cursor), limit=limit + 1, reverse=True
        )
        page = entries[:limit]
        docs = await self._store.get_many([key_of(e.member) for e in page])
        more = len(entries) > limit
        next_cursor = f"{page[-1].sort_key}~{page[-1].member}" if more else None
        items = b",".join(doc for doc in docs if doc is not None)
        return b'{"items":[%s],"next_cursor":%s}' % (items, orjson.dumps(next_cursor))


def _decode(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    if not _CURSOR.fullmatch(cursor):
        raise Invalid("cursor is not one this service returned")
    sort_key, _, member = cursor.rpartition("~")
    return sort_key, member
