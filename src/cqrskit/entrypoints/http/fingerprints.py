"""What the command service stores about a request: never card data.

An Idempotency-Key's record holds a fingerprint of the request, to tell a
replay from another request under the same key. It is an HMAC with the
server key, and the card (number, expiry, CVC) enters it only as an HMAC of
its own: an unkeyed hash of a body holding a card would give the CVC back to
anyone who knows the card number, in at most 1,000 guesses. The key itself is
scoped to the principal and the route, so one client's key neither blocks
nor replays another's request.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

CARD_FIELDS = frozenset({"payment"})
"""Body fields that hold card data (they reach the payment port in memory only)."""


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def fingerprint(key: bytes, method: str, path: str, body: dict[str, Any] | None) -> str:
    if body is not None:
        body = {
            name: _mac(key, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
            if name in CARD_FIELDS
            else value
            for name, value in body.items()
        }
    canonical = orjson.dumps([method, path, body], option=orjson.OPT_SORT_KEYS)
    return _mac(key, canonical)


def scoped_key(key: bytes, subject: str, method: str, route: str, given: str) -> str:
    """The stored form of an Idempotency-Key: the caller's, for this route."""
    return _mac(key, "\0".join([subject, method, route, given]).encode())
