"""Every route of both OpenAPI documents, and the operational ones, against
every kind of caller: the rule each route declares (`x-access`) is the rule
it enforces, and a route without a rule fails the test.

Each caller that gets past authentication meets resources of its own seeding
(a product, a cart, an order of alice's), so one caller's change never
decides another's answer.
"""

from __future__ import annotations

import base64
import itertools
import time
from typing import Any

import httpx
import orjson
import pytest
from shop_http import Shop, card

from cqrskit.core.auth import ADMIN, CUSTOMER
from credentials import ADMIN_TOKEN, SECRET, bearer, token

OPERATIONAL = ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"]
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("post", "/products"): {"sku": "{sku}-NEW", "name": "New", "price_cents": 100},
    ("post", "/products/{sku}/price"): {"price_cents": 1500},
    ("post", "/products/{sku}/name"): {"name": "Renamed"},
    ("post", "/inventory/{sku}/restock"): {"quantity": 3},
    ("post", "/carts"): {"customer_id": "alice"},
    ("post", "/carts/{cart_id}/items"): {"sku": "{sku}", "quantity": 1},
    ("put", "/carts/{cart_id}/items/{sku}"): {"quantity": 2},
    ("post", "/orders"): {"cart_id": "{cart_id}", "payment": card()},
    ("post", "/orders/{order_id}/cancel"): {"reason": "test"},
}
"""A valid body for each route that takes one (the rule is checked on
requests that would otherwise succeed)."""
OWNED = ("{cart_id}", "{order_id}", "{customer_id}")


def alg_none(subject: str) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()

    claims = {"sub": subject, "roles": [ADMIN], "exp": int(time.time()) + 3600}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


CALLERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "expired": bearer(token("alice", ADMIN, ttl=-60)),
    "bad signature": bearer(token("alice", ADMIN, secret=SECRET[::-1] + "x")),
    "alg none": bearer(alg_none("alice")),
    "other customer": bearer(token("bob", CUSTOMER)),
    "owner": bearer(token("alice", CUSTOMER)),
    "admin": bearer(ADMIN_TOKEN),
}
REFUSED = ("anonymous", "expired", "bad signature", "alg none")
_seq = itertools.count(1)


async def seed(shop: Shop) -> dict[str, str]:
    """A product in stock, a cart of alice's with it, an order of alice's."""
    n = next(_seq)
    sku, cart_id, placed = f"MX-{n}", f"mx-cart-{n}", f"mx-placed-{n}"
    await shop.add_product(sku, stock=100)
    for cart in (cart_id, placed):
        await shop.do("POST", "/carts", {"customer_id": "alice", "cart_id": cart}, 201)
        body = {"sku": sku, "quantity": 1}
        await shop.do("POST", f"/carts/{cart}/items", body)
        await shop.read(f"/carts/{cart}")
    order_id = f"mx-order-{n}"
    body = {"cart_id": placed, "order_id": order_id, "payment": card()}
    await shop.do("POST", "/orders", body, 201)
    await shop.read(f"/orders/{order_id}")
    return {
        "{sku}": sku,
        "{cart_id}": cart_id,
        "{order_id}": order_id,
        "{customer_id}": "alice",
        "{stream_id}": f"order-{order_id}",
    }


def fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    if isinstance(template, str):
        for name, value in ids.items():
            template = template.replace(name, value)
    return template


async def call(
    client: httpx.AsyncClient, method: str, path: str, body: Any, who: str
) -> httpx.Response:
    request = client.build_request(method, path, json=body)
    del request.headers["Authorization"]  # the clients' default: an admin
    request.headers.update(CALLERS[who])
    return await client.send(request)


def expect(rule: str, who: str, path: str, answer: httpx.Response) -> None:
    status = answer.status_code
    seen = f"{who} on {answer.request.method} {path}: {status} {answer.text[:200]}"
    assert status < 500, seen
    if rule == "public":
        assert status not in (401, 403), seen
    elif who in REFUSED:
        assert status == 401, seen
        assert answer.headers["WWW-Authenticate"] == "Bearer", seen
        assert answer.headers["content-type"] == "application/problem+json", seen
    elif who == "admin" or (who == "owner" and rule == "customer"):
        assert 200 <= status < 300, seen
    elif rule == "admin":
        assert status == 403, seen
    else:  # another customer on a customer's route
        owned = any(name in path for name in OWNED) or path == "/orders"
        assert status == (404 if owned else 403), seen


@pytest.mark.parametrize("who", list(CALLERS))
async def test_every_route_enforces_the_rule_it_declares(shop: Shop, who: str) -> None:
    walked = 0
    for client in (shop.command, shop.query):
        document = (await client.get("/openapi.json")).json()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                rule = operation.get("x-access")
                assert rule in ("public", "customer", "admin"), (method, path)
                ids = await seed(shop) if who not in REFUSED else {}
                ids = ids or {k: "none-1" for k in ("{sku}", *OWNED, "{stream_id}")}
                has_body = "requestBody" in operation
                assert not has_body or (method, path) in SAMPLE_BODIES, (method, path)
                body = fill(SAMPLE_BODIES.get((method, path)), ids)
                answer = await call(client, method, fill(path, ids), body, who)
                expect(rule, who, path, answer)
                walked += 1
        for path in OPERATIONAL:
            expect("public", who, path, await call(client, "GET", path, None, who))
    assert walked >= 18  # 13 command routes and 5 query routes, at least
