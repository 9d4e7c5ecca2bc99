"""No card data at rest, in logs or in answers.

Orders are placed (approved, replayed by key, declined, refused for the
Luhn check), then every row of every table, every log line and every answer
is searched for the card number, any run of 6+ of its digits, the expiry,
the CVC, and any unkeyed hash a brute force over the CVCs 000-999 could
match (the old fingerprint among them).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from harness import CqrskitProcess

from credentials import ADMIN_HEADERS, customer

pytestmark = pytest.mark.e2e

NUMBER, EXPIRY, CVC = "4539148803436467", "11/2031", "739"
DECLINED = "4000000000000002"


def runs(digits: str, shortest: int = 6) -> Iterator[str]:
    for size in range(shortest, len(digits) + 1):
        for start in range(len(digits) - size + 1):
            yield digits[start : start + size]


def unkeyed_hashes(bodies: list[tuple[str, dict[str, Any]]]) -> Iterator[str]:
    """What an attacker who knows the number and the cart would try."""
    for cvc in (f"{n:03d}" for n in range(1000)):
        payment = {"card_number": NUMBER, "expiry": EXPIRY, "cvc": cvc}
        texts = [NUMBER + cvc, f"{NUMBER}|{EXPIRY}|{cvc}", orjson.dumps(payment)]
        for path, body in bodies:
            full = {**body, "payment": payment}
            texts.append(
                orjson.dumps(["POST", path, full], option=orjson.OPT_SORT_KEYS)
            )
        for text in texts:
            raw = text.encode() if isinstance(text, str) else text
            for algorithm in ("sha256", "sha1", "md5"):
                yield hashlib.new(algorithm, raw).hexdigest()


def every_row(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        ]
        rows = [
            f"{table}: {row!r}"
            for table in tables
            for row in conn.execute(f'SELECT * FROM "{table}"')
        ]
    assert tables and rows
    return "\n".join(rows)


def test_no_card_data_is_stored_logged_or_answered(
    fresh_cqrskit: CqrskitProcess,
) -> None:
    answers: list[httpx.Response] = []
    alice = customer("alice")
    with httpx.Client(base_url=fresh_cqrskit.command_url, timeout=10) as client:

        def send(path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
            answers.append(client.post(path, json=body, headers=headers))

        product = {"sku": "CARD-1", "name": "Card test", "price_cents": 1000}
        send("/products", product, ADMIN_HEADERS)
        send("/inventory/CARD-1/restock", {"quantity": 10}, ADMIN_HEADERS)
        orders = []
        for n, number in enumerate([NUMBER, DECLINED, NUMBER[:-1] + "8"]):
            cart = f"card-{n}"
            send("/carts", {"cart_id": cart}, alice)
            send(f"/carts/{cart}/items", {"sku": "CARD-1", "quantity": 1}, alice)
            body = {"cart_id": cart, "order_id": f"o-{n}"}
            orders.append(("/orders", body))
            payment = {"card_number": number, "expiry": EXPIRY, "cvc": CVC}
            keyed = {**alice, "Idempotency-Key": f"order-{n}"}
            for _ in range(2):  # a replay too
                send("/orders", {**body, "payment": payment}, keyed)
    placed = [a.status_code for a in answers if a.request.url.path == "/orders"]
    assert placed == [201, 201, 402, 402, 422, 422]
    fresh_cqrskit.stop()

    data = fresh_cqrskit.data_dir
    stored = every_row(data / "events.db") + every_row(data / "views.db")
    assert "OrderPlaced" in stored and "idempotency: " in stored  # searched
    for name in ("card_number", "cvc", "expiry"):
        assert name not in stored, name
    haystack = "\n".join(
        [stored, fresh_cqrskit.output(), *(f"{a.headers}\n{a.text}" for a in answers)]
    )
    for needle in [*runs(NUMBER), EXPIRY, f'"{CVC}"']:
        assert needle not in haystack, needle
    for digest in unkeyed_hashes(orders):
        assert digest not in haystack, "an unkeyed hash of the card is stored"
