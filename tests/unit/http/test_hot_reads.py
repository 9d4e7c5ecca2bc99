"""The hot reads of the query service (a public product, no token) as a
client sees them: the answer of the full route, kept up to date."""

from __future__ import annotations

import httpx
from shop_http import Shop, assert_problem


async def test_a_hot_read_answers_what_the_route_answers(shop: Shop) -> None:
    await shop.add_product("MUG-1", name="Mug", price=500)
    with_token = await shop.query.get(
        "/products/MUG-1", headers={"Consistency-Token": shop.token or ""}
    )
    hot = await shop.query.get(
        "/products/MUG-1", headers={"X-Correlation-Id": "reader-1"}
    )
    assert hot.status_code == with_token.status_code == 200
    assert hot.content == with_token.content
    assert hot.headers["content-type"] == with_token.headers["content-type"]
    assert hot.headers["X-Correlation-Id"] == "reader-1"
    # the same headers as the route's, whatever a middleware adds
    assert set(hot.headers) == set(with_token.headers)


async def test_a_hot_read_shows_each_change_once_projected(shop: Shop) -> None:
    await shop.add_product("MUG-1", price=500)
    await shop.read("/products/MUG-1")  # caught up (token)
    assert (await hot(shop.query, "/products/MUG-1"))["price_cents"] == 500
    for price in (650, 700):
        await shop.do("POST", "/products/MUG-1/price", {"price_cents": price})
        await shop.read("/products/MUG-1")  # the projection applied it
        assert (await hot(shop.query, "/products/MUG-1"))["price_cents"] == price


async def test_what_the_front_does_not_answer_the_route_does(shop: Shop) -> None:
    assert_problem(await shop.query.get("/products/NOPE-1"), 404)
    assert_problem(await shop.query.get("/products/bad%20sku"), 422)


async def test_hot_reads_are_counted_under_their_route(shop: Shop) -> None:
    await shop.add_product("MUG-1")
    await shop.read("/products/MUG-1")
    for _ in range(3):
        await hot(shop.query, "/products/MUG-1")
    metrics = (await shop.query.get("/metrics")).text
    line = (
        'cqrskit_http_requests_total{method="GET",route="/products/{sku}",status="200"}'
    )
    counted = [row for row in metrics.splitlines() if row.startswith(line)]
    assert counted and float(counted[0].split()[-1]) >= 3


async def hot(query: httpx.AsyncClient, path: str) -> dict[str, object]:
    response = await query.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body
