"""The shop as an application of the kit: `cqrskit run` serves `app` unless
told another (`--app package.module:attr`)."""

from __future__ import annotations

from typing import Any

from cqrskit.core.application import Application, Kit
from cqrskit.core.history import StateView
from cqrskit.shop import models
from cqrskit.shop.bench import shop_workload
from cqrskit.shop.commands import COMMAND_ROUTES
from cqrskit.shop.demo import load_demo_data
from cqrskit.shop.domain.cart import cart_decider
from cqrskit.shop.domain.catalog import product_decider
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.domain.inventory import inventory_decider
from cqrskit.shop.domain.orders import order_decider
from cqrskit.shop.errors import SHOP_ERRORS
from cqrskit.shop.payments import DeterministicGateway, PaymentGateway
from cqrskit.shop.queries import ShopQueries
from cqrskit.shop.reads import QUERY_ROUTES
from cqrskit.shop.service import ShopCommands
from cqrskit.shop.views import shop_projections

Shop = Application[ShopCommands, ShopQueries]
STATES: dict[str, StateView[Any]] = {
    "product": StateView(product_decider),
    "inventory": StateView(inventory_decider),
    "cart": StateView(cart_decider),
    "order": StateView(order_decider),
}
"""What the console shows of a stream at a version, per category."""


def shop_application(gateway: PaymentGateway | None = None) -> Shop:
    """The shop; `gateway` authorizes payments (default: the deterministic
    test gateway with its documented approve and decline cards, one per
    command side)."""

    def commands(kit: Kit) -> ShopCommands:
        return ShopCommands(
            kit.dispatcher,
            gateway or DeterministicGateway(kit.clock),
            clock=kit.clock,
            new_id=kit.new_id,
        )

    return Application(
        name="shop",
        codec=shop_codec(),
        commands=commands,
        command_routes=COMMAND_ROUTES,
        projections=shop_projections,
        queries=ShopQueries,
        query_routes=QUERY_ROUTES,
        errors=SHOP_ERRORS,
        demo=load_demo_data,
        answer_model=models.CommandAnswer,
        states=STATES,
        bench=shop_workload,
    )


app = shop_application()
