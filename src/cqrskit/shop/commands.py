"""The shop's command routes, as data: how each request becomes a call on
`ShopCommands` (the kit builds the HTTP routes from this table). The hot
commands are lean: served by a plain Starlette route as well."""

from __future__ import annotations

from cqrskit.core.auth import Access
from cqrskit.core.errors import Forbidden
from cqrskit.core.routes import (
    Call,
    CommandInput,
    CommandRoute,
    id_from_body,
    id_from_path,
    id_from_stream,
)
from cqrskit.entrypoints.http.models import ID_PATTERN
from cqrskit.shop import models as m
from cqrskit.shop.domain import cart as c
from cqrskit.shop.domain import catalog as p
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.payments import Card
from cqrskit.shop.service import ShopCommands

Route = CommandRoute[ShopCommands]
SKU = {"sku": m.SKU_PATTERN}
CART = {"cart_id": ID_PATTERN}
CART_LINE = {"cart_id": ID_PATTERN, "sku": m.SKU_PATTERN}
ORDER = {"order_id": ID_PATTERN}


def _add_product(given: CommandInput) -> Call[ShopCommands]:
    body = given.body_as(m.NewProduct)
    command = p.AddProduct(
        body.sku,
        body.name,
        body.price_cents,
        body.description or "",
        body.category or "",
    )
    return lambda s, x: s.catalog(x, command, sku=body.sku)


def _on_product(given: CommandInput, command: object) -> Call[ShopCommands]:
    return lambda s, x: s.catalog(x, command, sku=given.path["sku"])


def _change_price(given: CommandInput) -> Call[ShopCommands]:
    price = given.body_as(m.NewPrice).price_cents
    return _on_product(given, p.ChangePrice(given.path["sku"], price))


def _rename(given: CommandInput) -> Call[ShopCommands]:
    name = given.body_as(m.NewName).name
    return _on_product(given, p.RenameProduct(given.path["sku"], name))


def _discontinue(given: CommandInput) -> Call[ShopCommands]:
    return _on_product(given, p.DiscontinueProduct(given.path["sku"]))


def _restock(given: CommandInput) -> Call[ShopCommands]:
    quantity = given.body_as(m.RestockBody).quantity
    command = i.Restock(given.path["sku"], quantity)
    return lambda s, x: s.restock(x, command)


def _create_cart(given: CommandInput) -> Call[ShopCommands]:
    body, who = given.body_as(m.NewCart), given.principal
    customer_id = body.customer_id or who.subject
    if customer_id != who.subject and not who.is_admin:
        raise Forbidden("a customer creates carts only for themselves")
    return lambda s, x: s.create_cart(x, customer_id, body.cart_id)


def _add_item(given: CommandInput) -> Call[ShopCommands]:
    body, cart_id = given.body_as(m.NewItem), given.path["cart_id"]
    return lambda s, x: s.add_item(x, cart_id, body.sku, body.quantity)


def _on_cart(given: CommandInput, command: object) -> Call[ShopCommands]:
    return lambda s, x: s.cart(x, command, cart_id=given.path["cart_id"])


def _change_quantity(given: CommandInput) -> Call[ShopCommands]:
    quantity = given.body_as(m.LineQuantity).quantity
    cart_id, sku = given.path["cart_id"], given.path["sku"]
    return _on_cart(given, c.ChangeQuantity(cart_id, sku, quantity))


def _remove_item(given: CommandInput) -> Call[ShopCommands]:
    cart_id, sku = given.path["cart_id"], given.path["sku"]
    return _on_cart(given, c.RemoveItem(cart_id, sku))


def _place_order(given: CommandInput) -> Call[ShopCommands]:
    body = given.body_as(m.NewOrder)
    card = Card(body.payment.card_number, body.payment.expiry, body.payment.cvc)
    return lambda s, x: s.place_order(x, body.cart_id, card, body.order_id)


def _ship(given: CommandInput) -> Call[ShopCommands]:
    return lambda s, x: s.ship_order(x, given.path["order_id"])


def _cancel(given: CommandInput) -> Call[ShopCommands]:
    body = given.body
    reason = (body.reason if isinstance(body, m.CancelBody) else None) or ""
    return lambda s, x: s.cancel_order(x, given.path["order_id"], reason)


COMMAND_ROUTES: tuple[Route, ...] = (
    Route(
        "add_product", "AddProduct", "POST", "/products", _add_product,
        body=m.NewProduct, status=201, access=Access.ADMIN, ids=id_from_body("sku"),
        lean=True, summary="Add a product", tag="catalog",
    ),
    Route(
        "change_price", "ChangePrice", "POST", "/products/{sku}/price",
        _change_price, body=m.NewPrice, params=SKU, access=Access.ADMIN,
        ids=id_from_path("sku"), summary="Change a product's price", tag="catalog",
    ),
    Route(
        "rename_product", "RenameProduct", "POST", "/products/{sku}/name", _rename,
        body=m.NewName, params=SKU, access=Access.ADMIN, ids=id_from_path("sku"),
        summary="Rename a product", tag="catalog",
    ),
    Route(
        "discontinue_product", "DiscontinueProduct", "POST",
        "/products/{sku}/discontinue", _discontinue, params=SKU,
        access=Access.ADMIN, ids=id_from_path("sku"),
        summary="Discontinue a product", tag="catalog",
    ),
    Route(
        "restock", "Restock", "POST", "/inventory/{sku}/restock", _restock,
        body=m.RestockBody, params=SKU, access=Access.ADMIN,
        ids=id_from_path("sku"), lean=True, summary="Add stock of a product",
        tag="inventory",
    ),
    Route(
        "create_cart", "CreateCart", "POST", "/carts", _create_cart,
        body=m.NewCart, status=201, ids=id_from_stream("cart_id"), problems=(403,),
        summary="Create a cart", tag="carts",
    ),
    Route(
        "add_item", "AddItem", "POST", "/carts/{cart_id}/items", _add_item,
        body=m.NewItem, params=CART, ids=id_from_path("cart_id"), lean=True,
        summary="Add an item to a cart (to its line, if there is one)", tag="carts",
    ),
    Route(
        "change_quantity", "ChangeQuantity", "PUT", "/carts/{cart_id}/items/{sku}",
        _change_quantity, body=m.LineQuantity, params=CART_LINE,
        ids=id_from_path("cart_id"), summary="Change a line's quantity", tag="carts",
    ),
    Route(
        "remove_item", "RemoveItem", "DELETE", "/carts/{cart_id}/items/{sku}",
        _remove_item, params=CART_LINE, ids=id_from_path("cart_id"),
        summary="Remove a line from a cart", tag="carts",
    ),
    Route(
        "place_order", "PlaceOrder", "POST", "/orders", _place_order,
        body=m.NewOrder, status=201, ids=id_from_stream("order_id"),
        problems=(402, 404), lean=True,
        summary="Place an order for a cart, paying by card", tag="orders",
    ),
    Route(
        "ship_order", "ShipOrder", "POST", "/orders/{order_id}/ship", _ship,
        params=ORDER, access=Access.ADMIN, ids=id_from_path("order_id"),
        summary="Ship an order", tag="orders",
    ),
    Route(
        "cancel_order", "CancelOrder", "POST", "/orders/{order_id}/cancel", _cancel,
        body=m.CancelBody, body_required=False, params=ORDER,
        ids=id_from_path("order_id"),
        summary="Cancel an order (its stock is released)", tag="orders",
    ),
)  # fmt: skip
