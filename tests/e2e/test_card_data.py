"""No card data at rest, in logs or in answers.

Orders are placed (approved, replayed by key, declined, refused for the
Luhn check), then every row of every table, every log line and every answer
is searched for the card number, any run of 6+ of its digits, the expiry,
the CVC, and any unkeyed hash a brute force over the CVCs 000-999 could
match (the old fingerprint among them).
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import redis.asyncio
from harness import CqrskitProcess, poll
from topology import ServicesTopology, _database_url

from credentials import ADMIN_HEADERS, customer
from services import REDIS_URL

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


Orders = list[tuple[str, dict[str, Any]]]


def place_orders(command_url: str) -> tuple[list[httpx.Response], Orders]:
    """Approved, declined and Luhn-refused orders, each replayed by its key."""
    answers: list[httpx.Response] = []
    alice = customer("alice")
    orders: Orders = []
    with httpx.Client(base_url=command_url, timeout=10) as client:

        def send(path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
            answers.append(client.post(path, json=body, headers=headers))

        product = {"sku": "CARD-1", "name": "Card test", "price_cents": 1000}
        send("/products", product, ADMIN_HEADERS)
        send("/inventory/CARD-1/restock", {"quantity": 10}, ADMIN_HEADERS)
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
    return answers, orders


def assert_no_card_data(
    stored: str, logs: str, answers: list[httpx.Response], orders: Orders
) -> None:
    assert "OrderPlaced" in stored and "CommandAnswered" in stored  # searched
    for name in ("card_number", "cvc", "expiry"):
        assert name not in stored, name
    haystack = "\n".join([stored, logs, *(f"{a.headers}\n{a.text}" for a in answers)])
    for needle in [*runs(NUMBER), EXPIRY, f'"{CVC}"']:
        assert needle not in haystack, needle
    for digest in unkeyed_hashes(orders):
        assert digest not in haystack, "an unkeyed hash of the card is stored"


def test_no_card_data_is_stored_logged_or_answered(
    fresh_cqrskit: CqrskitProcess,
) -> None:
    answers, orders = place_orders(fresh_cqrskit.command_url)
    fresh_cqrskit.stop()
    data = fresh_cqrskit.data_dir
    stored = every_row(data / "events.db") + every_row(data / "views.db")
    assert_no_card_data(stored, fresh_cqrskit.output(), answers, orders)


async def postgres_rows(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        rows = []
        for schema, table in tables:
            for row in await conn.fetch(f'SELECT * FROM "{schema}"."{table}"'):
                rows.append(f"{table}: {tuple(row.values())!r}")
        return "\n".join(rows)
    finally:
        await conn.close()


async def redis_values(url: str, namespace: str) -> str:
    client = redis.asyncio.Redis.from_url(url)
    try:
        values = []
        async for key in client.scan_iter(match=f"{namespace}:*"):
            kind = (await client.type(key)).decode()
            value: Any = {
                "string": client.get,
                "hash": client.hgetall,
                "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
                "list": lambda k: client.lrange(k, 0, -1),
                "set": client.smembers,
            }[kind](key)
            values.append(f"{key!r}: {await value!r}")
        assert values
        return "\n".join(values)
    finally:
        await client.aclose()


@pytest.mark.integration
def test_no_card_data_on_the_production_stores(tmp_path: Path) -> None:
    """The same on `cqrskit up`: every PostgreSQL table, every Redis key of
    the system, every log line of every role."""
    system = ServicesTopology(tmp_path)
    system.start()
    try:
        answers, orders = place_orders(system.command_url)
        with httpx.Client(base_url=system.query_url, headers=ADMIN_HEADERS) as query:
            poll(lambda: query.get("/orders/o-0"), lambda _: True)
        stored = asyncio.run(postgres_rows(_database_url(system.token)))
        stored += "\n" + asyncio.run(redis_values(REDIS_URL, system.token))
    finally:
        system.stop()
    assert_no_card_data(stored, system.output(), answers, orders)
