"""The query service: one read-store read, bytes out. It never sees the
event store; it is given only the read store."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import Route

from cqrskit.core.auth import Principal, TokenVerifier
from cqrskit.core.consistency import HEADER as TOKEN_HEADER
from cqrskit.core.consistency import MAX_TOKEN_LENGTH, TOKEN_PATTERN, parse_token
from cqrskit.core.errors import NotFound, StoreUnavailable
from cqrskit.entrypoints.http import access, problems
from cqrskit.entrypoints.http import models as m
from cqrskit.entrypoints.http.access import Access, principal_of, rule, signed_in
from cqrskit.entrypoints.http.lifespan import opened_in_background, opened_side
from cqrskit.entrypoints.http.metrics import MetricsMiddleware, new_registry
from cqrskit.entrypoints.http.middleware import RequestContextMiddleware
from cqrskit.entrypoints.http.models import ID_PATTERN, LINE_PATTERN, SKU_PATTERN
from cqrskit.entrypoints.http.openapi import parameters_never_null
from cqrskit.entrypoints.http.ops import add_ops_routes
from cqrskit.runtime.bootstrap import QuerySide
from cqrskit.shop.queries import CURSOR_PATTERN, ShopQueries

Provider = Callable[[], AbstractAsyncContextManager[QuerySide]]
Token = Annotated[
    str | None,
    Header(
        alias=TOKEN_HEADER,
        max_length=MAX_TOKEN_LENGTH,
        pattern=TOKEN_PATTERN,
        description="From a command's answer: wait (bounded) until the read side "
        "reflects it; 503 if it has not in time; 422 if its signature fails.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=1024, pattern=CURSOR_PATTERN)]
JSON = "application/json"
Answers = dict[int | str, dict[str, Any]]
Fetch = Callable[[ShopQueries, str, str | None], Awaitable[bytes]]
"""A document by id, for an owner (None: for anyone, as an admin reads)."""


def owner(principal: Principal) -> str | None:
    """Whose documents `principal` may read: its own, or (admin) anyone's."""
    return None if principal.is_admin else principal.subject


def listing(model: type[BaseModel]) -> Answers:
    return {200: {"model": model}, **problems.answers(422, 503)}


def document(model: type[BaseModel]) -> Answers:
    return {200: {"model": model}, **problems.answers(404, 422, 503)}


def create_query_app(
    provider: Provider, verifier: TokenVerifier, server_key: bytes
) -> FastAPI:
    """`server_key`: the HMAC key shared with the command service."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        async with opened_in_background(app, provider, "the read store"):
            yield

    app = FastAPI(title="cqrskit query service", lifespan=lifespan)
    registry = new_registry()
    app.add_middleware(MetricsMiddleware, registry=registry, routes=app.router.routes)
    app.add_middleware(RequestContextMiddleware)
    problems.install(app)
    parameters_never_null(app)
    access.install(app, verifier)

    async def ready() -> bool:
        await side_of(app).store.get("readyz")
        return True

    add_ops_routes(app, ready, registry)

    async def consistent(token: str | None) -> QuerySide:
        pairs = parse_token(token, server_key) if token else None
        side = side_of(app)
        if pairs and not await side.waiter.wait(pairs, side.consistency_timeout):
            raise StoreUnavailable(
                "the read side has not caught up with the Consistency-Token yet; retry"
            )
        return side

    def ok(body: bytes) -> Response:
        return Response(body, media_type=JSON)

    @app.get(
        "/products",
        **rule(Access.PUBLIC),
        response_class=Response,
        responses=listing(m.ProductPage),
    )
    async def products(
        q: Annotated[str | None, Query(max_length=200, pattern=LINE_PATTERN)] = None,
        category: Annotated[
            str | None, Query(max_length=64, pattern=LINE_PATTERN)
        ] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
        token: Token = None,
    ) -> Response:
        """The catalog, by SKU; `q` matches name or SKU (case-insensitive)."""
        side = await consistent(token)
        return ok(
            await side.queries.products(
                q=q, category=category, limit=limit, cursor=cursor
            )
        )

    @app.get(
        "/products/{sku}",
        **rule(Access.PUBLIC),
        response_class=Response,
        responses=document(m.Product),
    )
    async def product(
        sku: Annotated[str, Path(pattern=SKU_PATTERN)], token: Token = None
    ) -> Response:
        """A product with its live stock (`available` = not reserved)."""
        return ok(await (await consistent(token)).queries.product(sku))

    @app.get(
        "/carts/{cart_id}",
        **rule(Access.CUSTOMER),
        response_class=Response,
        responses=document(m.Cart),
    )
    async def cart(
        request: Request,
        cart_id: Annotated[str, Path(pattern=ID_PATTERN)],
        token: Token = None,
    ) -> Response:
        """A cart with line totals and the cart total (its owner's, or any: admin)."""
        side = await consistent(token)
        return ok(await side.queries.cart(cart_id, owner(principal_of(request))))

    @app.get(
        "/orders/{order_id}",
        **rule(Access.CUSTOMER),
        response_class=Response,
        responses=document(m.Order),
    )
    async def order(
        request: Request,
        order_id: Annotated[str, Path(pattern=ID_PATTERN)],
        token: Token = None,
    ) -> Response:
        """An order: placed, shipped or cancelled (its owner's, or any: admin)."""
        side = await consistent(token)
        return ok(await side.queries.order(order_id, owner(principal_of(request))))

    @app.get(
        "/customers/{customer_id}/orders",
        **rule(Access.CUSTOMER),
        response_class=Response,
        responses={**listing(m.OrderPage), **problems.answers(404)},
    )
    async def history(
        request: Request,
        customer_id: Annotated[str, Path(pattern=ID_PATTERN)],
        limit: Limit = 20,
        cursor: Cursor = None,
        token: Token = None,
    ) -> Response:
        """A customer's orders, newest first (one's own, or anyone's: admin)."""
        if not principal_of(request).owns(customer_id):
            raise NotFound(f"customer {customer_id} has no order history")
        side = await consistent(token)
        return ok(
            await side.queries.customer_orders(customer_id, limit=limit, cursor=cursor)
        )

    # The hot single-document reads are served by lean Starlette routes placed
    # ahead of the FastAPI ones above, which stay for the OpenAPI document:
    # the same answers, without FastAPI's per-request parameter machinery
    # (bench/query_routes.py measures the difference).
    # Each takes the access rule of the FastAPI route it stands in for.
    app.router.routes[0:0] = [
        _lean(
            "/products/{sku}",
            "sku",
            SKU_PATTERN,
            consistent,
            lambda queries, sku, _: queries.product(sku),
            Access.PUBLIC,
        ),
        _lean(
            "/carts/{cart_id}",
            "cart_id",
            ID_PATTERN,
            consistent,
            ShopQueries.cart,
            Access.CUSTOMER,
        ),
        _lean(
            "/orders/{order_id}",
            "order_id",
            ID_PATTERN,
            consistent,
            ShopQueries.order,
            Access.CUSTOMER,
        ),
    ]
    return app


def _lean(
    path: str,
    name: str,
    pattern: str,
    consistent: Callable[[str | None], Awaitable[QuerySide]],
    fetch: Fetch,
    rule: Access,
) -> Route:
    valid = re.compile(pattern)

    async def endpoint(request: Request) -> Response:
        whose = None
        if rule is Access.CUSTOMER:
            whose = owner(await signed_in(request))
        value = request.path_params[name]
        if not valid.fullmatch(value):
            raise RequestValidationError(
                [
                    {
                        "type": "string_pattern_mismatch",
                        "loc": ("path", name),
                        "msg": f"String should match pattern '{pattern}'",
                        "input": value,
                    }
                ]
            )
        side = await consistent(request.headers.get(TOKEN_HEADER))
        return Response(await fetch(side.queries, value, whose), media_type=JSON)

    return Route(path, endpoint, methods=["GET"], include_in_schema=False)


def side_of(app: FastAPI) -> QuerySide:
    side: QuerySide = opened_side(app, "the read store")  # type: ignore[assignment]
    return side
