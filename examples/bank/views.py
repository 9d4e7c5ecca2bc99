"""The bank's read models, each stored in the shape of its answer.

- `account:{id}`: the account with its balance;
- `statement:{id}`: an index of the account's movements, newest first, each
  movement a document `movement:{id}:{version}`;
- `owner-accounts:{owner}`: an index of an owner's accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from cqrskit.core.codec import EventCodec
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import IndexEntry
from cqrskit.core.projection import Projection, View
from examples.bank import domain as d


def account_key(account_id: str) -> str:
    return f"account:{account_id}"


def statement_index(account_id: str) -> str:
    return f"statement:{account_id}"


def movement_key(account_id: str, version: int) -> str:
    return f"movement:{account_id}:{version:012d}"


def owner_index(owner_id: str) -> str:
    return f"owner-accounts:{owner_id}"


class AccountsView:
    name = "accounts"
    categories = frozenset({"account"})
    prefixes: tuple[str, ...] = (
        "account:",
        "statement:",
        "movement:",
        "owner-accounts:",
    )

    def __init__(self, codec: EventCodec) -> None:
        self._codec = codec

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        account_id = event.data.get("account_id")
        return (account_key(account_id),) if isinstance(account_id, str) else ()

    async def apply(self, event: RecordedEvent, view: View) -> None:
        decoded = self._codec.decode(event)
        if isinstance(decoded, d.AccountOpened):
            self._open(decoded, view)
            return
        raw = await view.get(account_key(decoded.account_id))
        if raw is None:  # pragma: no cover - streams start with AccountOpened
            return
        doc = orjson.loads(raw)
        if isinstance(decoded, d.AccountClosed):
            doc["status"] = "closed"
        else:
            doc["balance_cents"] = decoded.balance_cents
            self._movement(decoded, event, view)
        view.put(account_key(decoded.account_id), orjson.dumps(doc))

    @staticmethod
    def _open(event: d.AccountOpened, view: View) -> None:
        doc = {
            "account_id": event.account_id,
            "owner_id": event.owner_id,
            "balance_cents": 0,
            "status": "open",
            "opened_at": event.opened_at,
        }
        view.put(account_key(event.account_id), orjson.dumps(doc))
        entry = IndexEntry(event.account_id, event.opened_at)
        view.index_put(owner_index(event.owner_id), entry)

    @staticmethod
    def _movement(event: Any, recorded: RecordedEvent, view: View) -> None:
        """One line of the statement, ordered by the stream's version."""
        line: dict[str, Any] = {
            "kind": _KINDS[type(event)],
            "amount_cents": event.amount_cents,
            "balance_cents": event.balance_cents,
            "at": recorded.recorded_at.isoformat().replace("+00:00", "Z"),
        }
        if isinstance(event, d.MoneySent):
            line |= {"transfer_id": event.transfer_id, "counterparty": event.to_account}
        elif isinstance(event, d.MoneyReceived):
            line |= {
                "transfer_id": event.transfer_id,
                "counterparty": event.from_account,
            }
        key = movement_key(event.account_id, recorded.version)
        view.put(key, orjson.dumps(line))
        entry = IndexEntry(key, f"{recorded.version:012d}")
        view.index_put(statement_index(event.account_id), entry)


_KINDS = {
    d.MoneyDeposited: "deposit",
    d.MoneyWithdrawn: "withdrawal",
    d.MoneySent: "transfer_out",
    d.MoneyReceived: "transfer_in",
}


def bank_projections(codec: EventCodec) -> list[Projection]:
    return [AccountsView(codec)]
