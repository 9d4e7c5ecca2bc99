"""The shop's own refusals, beside the kit's taxonomy (core/errors.py)."""

from __future__ import annotations

from cqrskit.core.application import ErrorKind
from cqrskit.core.errors import CqrskitError


class PaymentDeclined(CqrskitError):
    """The payment gateway declined the card (HTTP 402)."""


SHOP_ERRORS = (
    ErrorKind(PaymentDeclined, 402, "Payment Declined", "the card was declined"),
)
