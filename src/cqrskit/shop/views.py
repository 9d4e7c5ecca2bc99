"""The shop's projections. Each view is stored in the shape of its answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cqrskit.core.codec import EventCodec
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import IndexEntry
from cqrskit.core.projection import Projection, View
from cqrskit.shop.domain import cart as c
from cqrskit.shop.domain import catalog as p
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain import orders as o

CATALOG_INDEX = "catalog"


def product_key(sku: str) -> str:
    return f"product:{sku}"


def category_index(category: str) -> str:
    return f"catalog:category:{category}"


def cart_key(cart_id: str) -> str:
    return f"cart:{cart_id}"


def order_key(order_id: str) -> str:
    return f"order:{order_id}"


def history_index(customer_id: str) -> str:
    return f"customer-orders:{customer_id}"


async def _load(view: View, key: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = await view.get_json(key)
    return doc


class _Decoding:
    name: str
    categories: frozenset[str]
    prefixes: tuple[str, ...]

    def __init__(self, codec: EventCodec) -> None:
        self._codec = codec

    async def apply(self, event: RecordedEvent, view: View) -> None:
        await self.on(self._codec.decode(event), view)

    async def on(self, event: Any, view: View) -> None:
        raise NotImplementedError

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        return ()


class CatalogView(_Decoding):
    """Product detail with live stock, and the catalog listing indexes."""

    name = "catalog"
    categories = frozenset({"product", "inventory"})
    prefixes: tuple[str, ...] = ("product:", "stock:", CATALOG_INDEX)

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        sku = event.data.get("sku")
        return (product_key(sku), f"stock:{sku}") if isinstance(sku, str) else ()

    async def on(self, event: Any, view: View) -> None:
        if isinstance(event, p.ProductAdded):
            stock = await _load(view, f"stock:{event.sku}") or {"available": 0}
            doc = {
                "sku": event.sku,
                "name": event.name,
                "description": event.description,
                "category": event.category,
                "price_cents": event.price_cents,
                "available": stock["available"],
                "discontinued": False,
            }
            self._index(view, doc)
            view.put_json(product_key(event.sku), doc)
        elif isinstance(event, i.StockAdded | i.StockReserved | i.StockReleased):
            await self._stock(event, view)
        elif isinstance(
            event, p.PriceChanged | p.ProductRenamed | p.ProductDiscontinued
        ):
            await self._change(event, view)

    async def _change(self, event: Any, view: View) -> None:
        doc = await _load(view, product_key(event.sku))
        if doc is None:  # pragma: no cover - streams start with ProductAdded
            return
        if isinstance(event, p.PriceChanged):
            doc["price_cents"] = event.price_cents
        elif isinstance(event, p.ProductRenamed):
            doc["name"] = event.name
            self._index(view, doc)
        else:
            doc["discontinued"] = True
        view.put_json(product_key(event.sku), doc)

    async def _stock(self, event: Any, view: View) -> None:
        sign = -1 if isinstance(event, i.StockReserved) else 1
        stock = await _load(view, f"stock:{event.sku}") or {"available": 0}
        stock["available"] += sign * event.quantity
        view.put_json(f"stock:{event.sku}", stock)
        doc = await _load(view, product_key(event.sku))
        if doc is not None:
            doc["available"] = stock["available"]
            view.put_json(product_key(event.sku), doc)

    @staticmethod
    def _index(view: View, doc: dict[str, Any]) -> None:
        entry = IndexEntry(doc["sku"], doc["sku"], f"{doc['name']} {doc['sku']}")
        view.index_put(CATALOG_INDEX, entry)
        if doc["category"]:
            view.index_put(category_index(doc["category"]), entry)


class CartView(_Decoding):
    name = "carts"
    categories = frozenset({"cart"})
    prefixes: tuple[str, ...] = ("cart:",)

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        cart_id = event.data.get("cart_id")
        return (cart_key(cart_id),) if isinstance(cart_id, str) else ()

    async def on(self, event: Any, view: View) -> None:
        key = cart_key(event.cart_id)
        if isinstance(event, c.CartCreated):
            doc: dict[str, Any] = {
                "cart_id": event.cart_id,
                "customer_id": event.customer_id,
                "items": [],
                "total_cents": 0,
                "status": "open",
            }
        else:
            loaded = await _load(view, key)
            if loaded is None:  # pragma: no cover - streams start with CartCreated
                return
            doc = loaded
            _change_cart(doc, event)
        doc["total_cents"] = sum(item["line_total_cents"] for item in doc["items"])
        view.put_json(key, doc)


def _change_cart(doc: dict[str, Any], event: Any) -> None:
    """Change the one line the event is about, in place; every line keeps the
    keys of the answer in its order (sku, name, quantity, unit price, total)."""
    items: list[dict[str, Any]] = doc["items"]
    at = next(
        (n for n, x in enumerate(items) if x["sku"] == getattr(event, "sku", None)),
        None,
    )
    if isinstance(event, c.ItemAdded):
        quantity = event.quantity + (0 if at is None else items[at]["quantity"])
        line: dict[str, Any] = {
            "sku": event.sku,
            "name": event.name,
            "quantity": quantity,
            "unit_price_cents": event.unit_price_cents,
            "line_total_cents": quantity * event.unit_price_cents,
        }
        if at is None:
            items.append(line)
        else:
            items[at] = line
    elif isinstance(event, c.QuantityChanged) and at is not None:
        changed = items[at]
        changed["quantity"] = event.quantity
        changed["line_total_cents"] = event.quantity * changed["unit_price_cents"]
    elif isinstance(event, c.ItemRemoved) and at is not None:
        del items[at]
    elif isinstance(event, c.CartCheckedOut):
        doc["status"] = "checked_out"


class OrderView(_Decoding):
    """Order detail and each customer's history (newest first)."""

    name = "orders"
    categories = frozenset({"order"})
    prefixes: tuple[str, ...] = ("order:", "customer-orders:")

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        order_id = event.data.get("order_id")
        return (order_key(order_id),) if isinstance(order_id, str) else ()

    async def on(self, event: Any, view: View) -> None:
        key = order_key(event.order_id)
        if isinstance(event, o.OrderPlaced):
            doc = {
                "order_id": event.order_id,
                "customer_id": event.customer_id,
                "lines": [_line(line) for line in event.lines],
                "total_cents": event.total_cents,
                "status": "placed",
                "placed_at": event.placed_at,
            }
            view.put_json(key, doc)
            entry = IndexEntry(event.order_id, event.placed_at)
            view.index_put(history_index(event.customer_id), entry)
        elif isinstance(event, o.OrderShipped | o.OrderCancelled):
            loaded = await _load(view, key)
            if loaded is None:  # pragma: no cover - only placed orders ship or cancel
                return
            loaded["status"] = (
                "shipped" if isinstance(event, o.OrderShipped) else "cancelled"
            )
            view.put_json(key, loaded)


def _line(line: o.OrderLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price_cents": line.unit_price_cents,
        "line_total_cents": line.line_total_cents,
    }


def shop_projections(codec: EventCodec) -> list[Projection]:
    return [CatalogView(codec), CartView(codec), OrderView(codec)]
