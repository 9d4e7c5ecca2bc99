"""The shop's query routes, as data: how each request becomes a read on
`ShopQueries` (the kit builds the HTTP routes from this table)."""

from __future__ import annotations

from cqrskit.core.auth import Access
from cqrskit.core.errors import NotFound
from cqrskit.core.routes import Fetch, QueryInput, QueryRoute
from cqrskit.entrypoints.http.models import ID_PATTERN
from cqrskit.shop import models as m
from cqrskit.shop.queries import ShopQueries

Route = QueryRoute[ShopQueries]


def _products(given: QueryInput) -> Fetch[ShopQueries]:
    q = given.query_as(m.ProductsQuery)
    return lambda s: s.products(
        q=q.q, category=q.category, limit=q.limit, cursor=q.cursor
    )


def _product(given: QueryInput) -> Fetch[ShopQueries]:
    return lambda s: s.product(given.path["sku"])


def _cart(given: QueryInput) -> Fetch[ShopQueries]:
    return lambda s: s.cart(given.path["cart_id"], given.owner)


def _order(given: QueryInput) -> Fetch[ShopQueries]:
    return lambda s: s.order(given.path["order_id"], given.owner)


def _history(given: QueryInput) -> Fetch[ShopQueries]:
    customer_id, q = given.path["customer_id"], given.query_as(m.HistoryQuery)
    if given.principal is None or not given.principal.owns(customer_id):
        raise NotFound(f"customer {customer_id} has no order history")
    return lambda s: s.customer_orders(customer_id, limit=q.limit, cursor=q.cursor)


QUERY_ROUTES: tuple[Route, ...] = (
    Route(
        "list_products", "/products", _products, m.ProductPage,
        query=m.ProductsQuery, access=Access.PUBLIC,
        summary="List the catalog",
        description="The catalog, by SKU; `q` matches name or SKU "
        "(case-insensitive).",
        tag="catalog",
    ),
    Route(
        "get_product", "/products/{sku}", _product, m.Product,
        params={"sku": m.SKU_PATTERN}, access=Access.PUBLIC, problems=(404,),
        lean=True, summary="Read a product",
        description="A product with its live stock (`available` = not reserved).",
        tag="catalog",
    ),
    Route(
        "get_cart", "/carts/{cart_id}", _cart, m.Cart,
        params={"cart_id": ID_PATTERN}, problems=(404,), lean=True,
        summary="Read a cart",
        description="A cart with line totals and the cart total (its owner's, "
        "or any: admin).",
        tag="carts",
    ),
    Route(
        "get_order", "/orders/{order_id}", _order, m.Order,
        params={"order_id": ID_PATTERN}, problems=(404,), lean=True,
        summary="Read an order",
        description="An order: placed, shipped or cancelled (its owner's, or "
        "any: admin).",
        tag="orders",
    ),
    Route(
        "list_customer_orders", "/customers/{customer_id}/orders", _history,
        m.OrderPage, params={"customer_id": ID_PATTERN}, query=m.HistoryQuery,
        problems=(404,), summary="List a customer's orders",
        description="A customer's orders, newest first (one's own, or anyone's: "
        "admin).",
        tag="orders",
    ),
)  # fmt: skip
