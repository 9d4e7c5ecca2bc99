"""The payment-gateway port and the built-in deterministic gateway.

Test cards: 4242424242424242 approves, 4000000000000002 declines; any other
number that passes the Luhn check approves; one that fails it is invalid.
An expiry month in the past declines.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cqrskit.core.errors import Invalid

APPROVE_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/(\d{2}|\d{4})$")


@dataclass(frozen=True, slots=True)
class Card:
    number: str
    expiry: str
    cvc: str

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True, slots=True)
class Authorization:
    approved: bool
    authorization_id: str
    amount_cents: int
    reason: str = ""


class PaymentGateway(Protocol):
    async def authorize(
        self, card: Card, amount_cents: int, reference: str
    ) -> Authorization:
        """Hold `amount_cents` on the card; a decline is an answer, not an error."""
        ...

    async def void(self, authorization_id: str) -> None:
        """Release a hold. Voiding twice, or voiding a decline, does nothing."""
        ...


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def check_card(card: Card) -> None:
    """Raise Invalid for a card no gateway could charge."""
    if not luhn_valid(card.number):
        raise Invalid("card_number is not a valid card number (Luhn check failed)")
    if not _EXPIRY.match(card.expiry):
        raise Invalid("expiry must be MM/YY or MM/YYYY")
    if not (card.cvc.isdigit() and len(card.cvc) in (3, 4)):
        raise Invalid("cvc must be 3 or 4 digits")


def expired(expiry: str, today: datetime) -> bool:
    month_text, year_text = expiry.split("/")
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    return (year, int(month_text)) < (today.year, today.month)


class DeterministicGateway:
    """Answers from the card number alone, and remembers its holds."""

    def __init__(
        self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._clock = clock
        self._ids = itertools.count(1)
        self.holds: dict[str, int] = {}
        self.voided: set[str] = set()

    async def authorize(
        self, card: Card, amount_cents: int, reference: str
    ) -> Authorization:
        check_card(card)
        auth_id = f"auth_{reference}_{next(self._ids)}"
        if card.number == DECLINE_CARD:
            return Authorization(False, auth_id, amount_cents, "card declined")
        if expired(card.expiry, self._clock()):
            return Authorization(False, auth_id, amount_cents, "card expired")
        self.holds[auth_id] = amount_cents
        return Authorization(True, auth_id, amount_cents)

    async def void(self, authorization_id: str) -> None:
        if self.holds.pop(authorization_id, None) is not None:
            self.voided.add(authorization_id)
