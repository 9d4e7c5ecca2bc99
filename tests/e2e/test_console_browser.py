"""The web console end to end, in headless Chromium: `cqrskit run` on free
ports, an order placed through the API, then in the browser an operator signs
in, browses to the order's stream, reads its audit trail, time-travels to
version 1, watches lag and partitions refresh, and retries a parked stream
(a poison event parked before the start; it fails again, as it must).

Playwright drives Debian's `chromium` (its own browser download cannot work
here). Without it the test skips, unless CQRSKIT_REQUIRE_SERVICES is set (CI),
where it fails. It saves a screenshot of each view; with
CQRSKIT_SCREENSHOTS_DIR=docs/img it writes the ones docs/console.md shows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import Shop, running_cqrskit

from cqrskit.adapters.sqlite import SqliteEventStore, SqliteReadStore
from cqrskit.core.messages import Metadata, NewEvent, StreamAppend
from cqrskit.core.projection import ProjectionRunner
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.views import shop_projections
from credentials import ADMIN_TOKEN, customer, token

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
APPROVE = {"card_number": "4242424242424242", "expiry": "12/30", "cvc": "123"}


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    if CHROMIUM is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CQRSKIT_REQUIRE_SERVICES"):
            pytest.fail(f"{message} (CQRSKIT_REQUIRE_SERVICES is set)")
        pytest.skip(f"browser test skipped: {message}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


async def _park_a_poison_event(data_dir: Path) -> None:
    """Before the system starts: an event no projection can read, on
    `product-BAD-1`, that the catalog projection parks."""
    events = await SqliteEventStore.open(data_dir / "events.db")
    views = await SqliteReadStore.open(data_dir / "views.db")
    try:
        poison = StreamAppend("product-BAD-1", 0, [NewEvent("Garbled", {"x": 1})])
        recorded = await events.append([poison], metadata=Metadata())
        projections = shop_projections(shop_codec())
        await ProjectionRunner(projections, views, max_failures=1).handle(0, recorded)
    finally:
        await views.close()
        await events.close()


@pytest.fixture
def shop_with_a_parked_stream(tmp_path: Path) -> Iterator[Shop]:
    (tmp_path / "data").mkdir()
    asyncio.run(_park_a_poison_event(tmp_path / "data"))
    for system in running_cqrskit(tmp_path / "data", tmp_path):
        client = Shop(system)
        try:
            yield client
        finally:
            client.close()


def _screenshot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("CQRSKIT_SCREENSHOTS_DIR", tmp_path))
    page.screenshot(path=str(folder / f"console-{name}.png"), full_page=True)


def _place_order(shop: Shop) -> str:
    """alice orders two mugs; an operator ships the order (two events)."""
    alice = customer("alice")
    shop.command.post(
        "/products", json={"sku": "MUG-01", "name": "Mug", "price_cents": 1200}
    ).raise_for_status()
    shop.command.post(
        "/inventory/MUG-01/restock", json={"quantity": 10}
    ).raise_for_status()
    shop.command.post(
        "/carts", json={"customer_id": "alice", "cart_id": "c1"}, headers=alice
    ).raise_for_status()
    shop.command.post(
        "/carts/c1/items", json={"sku": "MUG-01", "quantity": 2}, headers=alice
    ).raise_for_status()
    placed = shop.command.post(
        "/orders",
        json={"cart_id": "c1", "order_id": "o1", "payment": APPROVE},
        headers=alice,
    )
    placed.raise_for_status()
    shop.command.post("/orders/o1/ship").raise_for_status()
    return "order-o1"


def test_an_operator_browses_time_travels_and_watches_lag(
    shop_with_a_parked_stream: Shop, browser_page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, fresh_shop = browser_page, shop_with_a_parked_stream
    stream = _place_order(fresh_shop)
    page.goto(f"{fresh_shop.system.command_url}/console/")

    # a customer's token is refused and forgotten; an admin's is kept for the tab
    expect(page.locator("#sign-in")).to_be_visible()
    _screenshot(page, "sign-in", tmp_path)
    page.fill("#token", token("alice"))
    page.click("#sign-in-form button")
    expect(page.locator("#error")).to_contain_text("403")
    expect(page.locator("#sign-in")).to_be_visible()
    page.fill("#token", ADMIN_TOKEN)
    page.click("#sign-in-form button")
    expect(page.locator("#streams")).to_be_visible()

    # streams by prefix, then the order's audit trail
    page.fill("#prefix", "order-")
    page.click("#search-form button")
    expect(page.locator("#stream-list a")).to_have_text([stream])
    _screenshot(page, "streams", tmp_path)
    page.click(f"#stream-list a:text-is('{stream}')")
    rows = page.locator("#events tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("OrderPlaced")
    expect(rows.nth(0)).to_contain_text("alice (customer)")
    expect(rows.nth(1)).to_contain_text("OrderShipped")
    expect(rows.nth(1)).to_contain_text("ops (admin)")
    expect(page.locator("#state")).to_contain_text('"status": "shipped"')

    # time travel: the state after the first event
    page.fill("#state-version", "1")
    page.click("#state-form button")
    expect(page.locator("#state-caption")).to_have_text("after event 1 of 2")
    expect(page.locator("#state")).to_contain_text('"status": "placed"')
    _screenshot(page, "stream", tmp_path)

    # lag and partitions, refreshed while shown: a new event moves the head
    page.click("nav a[data-tab=status]")
    expect(page.locator("#projections .projection")).to_have_count(3)
    expect(page.locator("#status-summary")).to_contain_text("event store head")
    restock = fresh_shop.command.post("/inventory/MUG-01/restock", json={"quantity": 1})
    head = restock.json()["position"]
    expect(page.locator("#status-summary")).to_contain_text(f"event store head {head}")
    _screenshot(page, "status", tmp_path)

    # the parked stream, retried: its event fails again, one attempt more
    page.click("nav a[data-tab=parked]")
    parked = page.locator("#parked-list tr")
    expect(parked).to_have_count(1)
    expect(parked).to_contain_text("product-BAD-1")
    expect(parked).to_contain_text("Garbled")
    expect(parked.locator("td.num")).to_have_text("1")
    parked.locator("button").click()
    expect(page.locator("#retry-result")).to_contain_text(
        "product-BAD-1 failed again at v1"
    )
    expect(parked.locator("td.num")).to_have_text("2")
    _screenshot(page, "parked", tmp_path)

    # signing out forgets the token
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
