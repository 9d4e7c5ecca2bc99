"""The deterministic test gateway, with the kit's documented test cards:
4242424242424242 approves, 4000000000000002 declines, a Luhn failure is 422,
an expiry month in the past declines."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from baselines.crud.problems import Invalid

DECLINE_CARD = "4000000000000002"
_IDS = itertools.count(1)


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return number.isdigit() and total % 10 == 0


def authorize(number: str, expiry: str, reference: str) -> tuple[str, str]:
    """An authorization id and, for a decline, the reason (else "")."""
    if not luhn_valid(number):
        raise Invalid("card_number is not a valid card number (Luhn check failed)")
    auth_id = f"auth_{reference}_{next(_IDS)}"
    if number == DECLINE_CARD:
        return auth_id, "card declined"
    month, year = expiry.split("/")
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    today = datetime.now(UTC)
    if (full_year, int(month)) < (today.year, today.month):
        return auth_id, "card expired"
    return auth_id, ""
