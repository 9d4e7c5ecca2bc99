"""The shop's command handlers across streams, through a real Dispatcher on the
in-memory event store (cqrskit.testing's given_streams)."""

from __future__ import annotations

from datetime import UTC, datetime

from cqrskit.core.auth import Principal
from cqrskit.core.dispatcher import CommandContext, Dispatcher
from cqrskit.core.errors import NotFound, RuleViolated
from cqrskit.core.messages import Ack
from cqrskit.shop.domain import cart as c
from cqrskit.shop.domain import catalog as p
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.payments import DeterministicGateway
from cqrskit.shop.service import ShopCommands
from cqrskit.testing import given_streams

MUG = p.ProductAdded("SKU-1", "Mug", 1200, "", "kitchen")
CART = c.CartCreated("c1", "alice")


def as_(customer: str) -> CommandContext:
    principal = Principal(customer, frozenset({"customer"}))
    return CommandContext("cmd-1", "corr-1", principal=principal)


def commands(dispatcher: Dispatcher) -> ShopCommands:
    return ShopCommands(
        dispatcher,
        DeterministicGateway(),
        clock=lambda: datetime(2024, 5, 1, tzinfo=UTC),
        new_id=lambda: "new-1",
    )


async def test_an_added_item_carries_the_products_price_now() -> None:
    history = {
        "product-SKU-1": [MUG, p.PriceChanged("SKU-1", 900, 1200)],
        "cart-c1": [CART],
    }

    ack = await (
        given_streams(shop_codec(), history)
        .when(lambda d: commands(d).add_item(as_("alice"), "c1", "SKU-1", 2))
        .then({"cart-c1": [c.ItemAdded("c1", "SKU-1", 2, "Mug", 900)]})
    )

    assert (ack.stream_id, ack.version) == ("cart-c1", 2)


async def test_another_customers_cart_is_answered_as_missing() -> None:
    history = {"product-SKU-1": [MUG], "cart-c1": [CART]}

    await (
        given_streams(shop_codec(), history)
        .when(lambda d: commands(d).add_item(as_("bob"), "c1", "SKU-1", 1))
        .then_raises(NotFound, match="cart c1 does not exist")
    )


async def test_a_discontinued_product_cannot_be_restocked() -> None:
    history = {"product-SKU-1": [MUG, p.ProductDiscontinued("SKU-1")]}

    await (
        given_streams(shop_codec(), history)
        .when(lambda d: commands(d).restock(as_("ops"), i.Restock("SKU-1", 5)))
        .then_raises(RuleViolated, match="SKU-1 is discontinued")
    )


async def test_a_restock_lands_on_the_inventory_stream() -> None:
    ack: Ack = await (
        given_streams(shop_codec(), {"product-SKU-1": [MUG]})
        .when(lambda d: commands(d).restock(as_("ops"), i.Restock("SKU-1", 5)))
        .then({"inventory-SKU-1": [i.StockAdded("SKU-1", 5)]})
    )

    assert (ack.stream_id, ack.version, ack.position) == ("inventory-SKU-1", 1, 2)
