"""What the bank's routes accept and answer (validated at the edge).

The answers are documented only: the read models are stored in this shape
and sent as they are.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from cqrskit.entrypoints.http import models as kit
from cqrskit.entrypoints.http.models import ID_PATTERN, Body, Id, integral

Cents = Annotated[
    int, Field(strict=True, ge=1, le=100_000_000_00), BeforeValidator(integral)
]
CURSOR_PATTERN = r"^[^\x00-\x1f\x7f]*~[^\x00-\x1f\x7f~]+$"
Cursor = Annotated[str | None, StringConstraints(pattern=CURSOR_PATTERN)]
Limit = Annotated[int, Field(ge=1, le=100)]


class NewAccount(Body):
    account_id: Id | None = None
    owner_id: Id | None = None
    """An operator may open an account for someone; a customer only for
    themselves (the default)."""


class Amount(Body):
    amount_cents: Cents


class NewTransfer(Body):
    from_account: Id
    to_account: Id
    amount_cents: Cents
    transfer_id: Id | None = None


class CommandAnswer(kit.CommandAnswer):
    account_id: str | None = None
    transfer_id: str | None = None


class Account(BaseModel):
    account_id: str
    owner_id: str
    balance_cents: int
    status: Literal["open", "closed"]
    opened_at: str


class Movement(BaseModel):
    kind: Literal["deposit", "withdrawal", "transfer_out", "transfer_in"]
    amount_cents: int
    balance_cents: int
    at: str
    transfer_id: str | None = None
    counterparty: str | None = None


class Statement(BaseModel):
    items: list[Movement]
    next_cursor: str | None


class AccountPage(BaseModel):
    items: list[Account]
    next_cursor: str | None


class PageQuery(BaseModel):
    limit: Limit = 20
    cursor: Cursor = None


ACCOUNT = {"account_id": ID_PATTERN}
OWNER = {"owner_id": ID_PATTERN}
