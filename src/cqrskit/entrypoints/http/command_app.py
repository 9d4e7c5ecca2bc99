"""The command service: validates, decides, appends; answers with an ack."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Header, Path, Request
from prometheus_client import Counter
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response

from cqrskit.core import logcontext
from cqrskit.core.auth import TokenVerifier
from cqrskit.core.consistency import HEADER as TOKEN_HEADER
from cqrskit.core.consistency import token_for
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import Forbidden, NotFound
from cqrskit.core.messages import STREAM_ID_PATTERN, Ack, stream_entity
from cqrskit.core.wire import event_to_dict
from cqrskit.entrypoints.http import access, problems
from cqrskit.entrypoints.http import models as m
from cqrskit.entrypoints.http.access import Access, principal_of, rule
from cqrskit.entrypoints.http.fingerprints import fingerprint, scoped_key
from cqrskit.entrypoints.http.lifespan import opened_in_background, opened_side
from cqrskit.entrypoints.http.metrics import MetricsMiddleware, new_registry
from cqrskit.entrypoints.http.middleware import RequestContextMiddleware
from cqrskit.entrypoints.http.openapi import parameters_never_null
from cqrskit.entrypoints.http.ops import add_ops_routes
from cqrskit.runtime.bootstrap import CommandSide
from cqrskit.shop.domain import cart as c
from cqrskit.shop.domain import catalog as p
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.payments import Card

Provider = Callable[[], AbstractAsyncContextManager[CommandSide]]
SkuPath = Annotated[str, Path(pattern=m.SKU_PATTERN)]
IdPath = Annotated[str, Path(pattern=m.ID_PATTERN)]
StreamIdPath = Annotated[str, Path(pattern=STREAM_ID_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=r"^[!-~]{1,255}$"),
]
"""Visible ASCII: it is stored with the events."""
READY_PROBE = "readyz-probe"
# Every route reads (and may refuse) a body; those that take one may find it
# is not JSON. The bodiless ones still read it, to refuse one that is too big.
BODILESS = problems.answers(404, 409, 413, 422, 503)
WITH_BODY = problems.answers(400, 404, 409, 413, 422, 503)


def create_command_app(
    provider: Provider,
    verifier: TokenVerifier,
    server_key: bytes,
    *,
    rate_limit: float = 0.0,
) -> FastAPI:
    """`server_key`: the HMAC key shared with the query service; `rate_limit`:
    commands per second per caller (0: none; processes take
    CQRSKIT_RATE_LIMIT, on by default)."""
    registry = new_registry()
    commands_total = Counter(
        "cqrskit_commands",
        "Commands handled",
        ["command", "outcome"],
        registry=registry,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        async with opened_in_background(app, provider, "the event store"):
            yield

    app = FastAPI(title="cqrskit command service", lifespan=lifespan)
    registry.register(ConflictRetries(app))
    app.add_middleware(MetricsMiddleware, registry=registry, routes=app.router.routes)
    app.add_middleware(RequestContextMiddleware)
    problems.install(app)
    parameters_never_null(app)
    access.install(app, verifier, rate_limit)

    async def ready() -> bool:
        # One indexed read of a stream that never exists: the store answers.
        await side_of(app).store.read_stream(READY_PROBE)
        return True

    add_ops_routes(app, ready, registry)

    async def run(
        request: Request, name: str, body: m.Body | None, key: str | None, call: Any
    ) -> Ack:
        ctx = context(request, body, key, server_key)
        try:
            ack: Ack = await call(side_of(app).commands, ctx)
        except Exception as e:
            commands_total.labels(name, type(e).__name__).inc()
            raise
        commands_total.labels(name, "ok").inc()
        return ack

    @app.post(
        "/products",
        **rule(Access.ADMIN),
        status_code=201,
        response_model=m.CommandAnswer,
        responses=WITH_BODY,
    )
    async def add_product(
        request: Request, body: m.NewProduct, key: IdempotencyKey = None
    ) -> Response:
        command = p.AddProduct(
            body.sku,
            body.name,
            body.price_cents,
            body.description or "",
            body.category or "",
        )
        ack = await run(
            request,
            "AddProduct",
            body,
            key,
            lambda s, x: s.catalog(x, command, sku=body.sku),
        )
        return answer(ack, 201, server_key, sku=body.sku)

    @app.post(
        "/products/{sku}/price",
        **rule(Access.ADMIN),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=WITH_BODY,
    )
    async def change_price(
        request: Request, sku: SkuPath, body: m.NewPrice, key: IdempotencyKey = None
    ) -> Response:
        command = p.ChangePrice(sku, body.price_cents)
        ack = await run(
            request,
            "ChangePrice",
            body,
            key,
            lambda s, x: s.catalog(x, command, sku=sku),
        )
        return answer(ack, 202, server_key, sku=sku)

    @app.post(
        "/products/{sku}/name",
        **rule(Access.ADMIN),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=WITH_BODY,
    )
    async def rename_product(
        request: Request, sku: SkuPath, body: m.NewName, key: IdempotencyKey = None
    ) -> Response:
        command = p.RenameProduct(sku, body.name)
        ack = await run(
            request,
            "RenameProduct",
            body,
            key,
            lambda s, x: s.catalog(x, command, sku=sku),
        )
        return answer(ack, 202, server_key, sku=sku)

    @app.post(
        "/products/{sku}/discontinue",
        **rule(Access.ADMIN),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=BODILESS,
    )
    async def discontinue(
        request: Request, sku: SkuPath, key: IdempotencyKey = None
    ) -> Response:
        command = p.DiscontinueProduct(sku)
        ack = await run(
            request,
            "DiscontinueProduct",
            None,
            key,
            lambda s, x: s.catalog(x, command, sku=sku),
        )
        return answer(ack, 202, server_key, sku=sku)

    @app.post(
        "/inventory/{sku}/restock",
        **rule(Access.ADMIN),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=WITH_BODY,
    )
    async def restock(
        request: Request, sku: SkuPath, body: m.RestockBody, key: IdempotencyKey = None
    ) -> Response:
        command = i.Restock(sku, body.quantity)
        ack = await run(
            request, "Restock", body, key, lambda s, x: s.restock(x, command)
        )
        return answer(ack, 202, server_key, sku=sku)

    @app.post(
        "/carts",
        **rule(Access.CUSTOMER),
        status_code=201,
        response_model=m.CommandAnswer,
        responses={**WITH_BODY, **problems.answers(403)},
    )
    async def create_cart(
        request: Request, body: m.NewCart, key: IdempotencyKey = None
    ) -> Response:
        who = principal_of(request)
        customer_id = body.customer_id or who.subject
        if customer_id != who.subject and not who.is_admin:
            raise Forbidden("a customer creates carts only for themselves")
        ack = await run(
            request,
            "CreateCart",
            body,
            key,
            lambda s, x: s.create_cart(x, customer_id, body.cart_id),
        )
        return answer(ack, 201, server_key, cart_id=stream_entity(ack.stream_id))

    @app.post(
        "/carts/{cart_id}/items",
        **rule(Access.CUSTOMER),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=WITH_BODY,
    )
    async def add_item(
        request: Request, cart_id: IdPath, body: m.NewItem, key: IdempotencyKey = None
    ) -> Response:
        ack = await run(
            request,
            "AddItem",
            body,
            key,
            lambda s, x: s.add_item(x, cart_id, body.sku, body.quantity),
        )
        return answer(ack, 202, server_key, cart_id=cart_id)

    @app.put(
        "/carts/{cart_id}/items/{sku}",
        **rule(Access.CUSTOMER),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=WITH_BODY,
    )
    async def change_quantity(
        request: Request,
        cart_id: IdPath,
        sku: SkuPath,
        body: m.LineQuantity,
        key: IdempotencyKey = None,
    ) -> Response:
        command = c.ChangeQuantity(cart_id, sku, body.quantity)
        ack = await run(
            request,
            "ChangeQuantity",
            body,
            key,
            lambda s, x: s.cart(x, command, cart_id=cart_id),
        )
        return answer(ack, 202, server_key, cart_id=cart_id)

    @app.delete(
        "/carts/{cart_id}/items/{sku}",
        **rule(Access.CUSTOMER),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=BODILESS,
    )
    async def remove_item(
        request: Request, cart_id: IdPath, sku: SkuPath, key: IdempotencyKey = None
    ) -> Response:
        command = c.RemoveItem(cart_id, sku)
        ack = await run(
            request,
            "RemoveItem",
            None,
            key,
            lambda s, x: s.cart(x, command, cart_id=cart_id),
        )
        return answer(ack, 202, server_key, cart_id=cart_id)

    @app.post(
        "/orders",
        **rule(Access.CUSTOMER),
        status_code=201,
        response_model=m.CommandAnswer,
        responses={**WITH_BODY, **problems.answers(402)},
    )
    async def place_order(
        request: Request, body: m.NewOrder, key: IdempotencyKey = None
    ) -> Response:
        card = Card(body.payment.card_number, body.payment.expiry, body.payment.cvc)
        ack = await run(
            request,
            "PlaceOrder",
            body,
            key,
            lambda s, x: s.place_order(x, body.cart_id, card, body.order_id),
        )
        return answer(ack, 201, server_key, order_id=stream_entity(ack.stream_id))

    @app.post(
        "/orders/{order_id}/ship",
        **rule(Access.ADMIN),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=BODILESS,
    )
    async def ship(
        request: Request, order_id: IdPath, key: IdempotencyKey = None
    ) -> Response:
        ack = await run(
            request, "ShipOrder", None, key, lambda s, x: s.ship_order(x, order_id)
        )
        return answer(ack, 202, server_key, order_id=order_id)

    @app.post(
        "/orders/{order_id}/cancel",
        **rule(Access.CUSTOMER),
        status_code=202,
        response_model=m.CommandAnswer,
        responses=WITH_BODY,
    )
    async def cancel(
        request: Request,
        order_id: IdPath,
        body: m.CancelBody | None = None,
        key: IdempotencyKey = None,
    ) -> Response:
        reason = (body.reason if body else None) or ""
        ack = await run(
            request,
            "CancelOrder",
            body,
            key,
            lambda s, x: s.cancel_order(x, order_id, reason),
        )
        return answer(ack, 202, server_key, order_id=order_id)

    @app.get(
        "/streams/{stream_id}",
        **rule(Access.ADMIN),
        response_model=m.AuditTrail,
        responses=problems.answers(404, 422, 503),
    )
    async def audit_trail(stream_id: StreamIdPath) -> Response:
        """A stream's events in order: the audit trail (an operator's route)."""
        records = await side_of(app).store.read_stream(stream_id)
        if not records:
            raise NotFound(f"stream {stream_id} has no events")
        events = [event_to_dict(r) for r in records]
        body = {
            "stream_id": stream_id,
            "version": records[-1].version,
            "events": events,
        }
        return Response(orjson.dumps(body), media_type="application/json")

    return app


class ConflictRetries(Collector):
    """Appends lost to another writer and retried, as the dispatcher counts them."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        side = getattr(self._app.state, "side", None)
        value = side.dispatcher.conflict_retries if side is not None else 0
        yield CounterMetricFamily(
            "cqrskit_command_conflict_retries",
            "Command appends that lost to another writer and were retried",
            value=value,
        )


def side_of(app: FastAPI) -> CommandSide:
    side: CommandSide = opened_side(app, "the event store")  # type: ignore[assignment]
    return side


def context(
    request: Request, body: m.Body | None, key: str | None, server_key: bytes
) -> CommandContext:
    who = principal_of(request)
    method, path = request.method, request.url.path
    if key is not None:
        route = request.scope["route"].path
        key = scoped_key(server_key, who.subject, method, route, key)
    dumped = body.model_dump() if body else None
    logcontext.command.set(request.scope["route"].name)
    return CommandContext(
        command_id=uuid.uuid4().hex,
        correlation_id=request.state.correlation_id,
        idempotency_key=key,
        fingerprint=fingerprint(server_key, method, path, dumped),
        principal=who,
    )


def answer(ack: Ack, status: int, server_key: bytes, **ids: str) -> Response:
    token = token_for(ack, server_key)
    logcontext.stream.set(ack.stream_id)
    body: dict[str, Any] = {
        "stream_id": ack.stream_id,
        "version": ack.version,
        "position": ack.position,
        "consistency_token": token,
        **ids,
    }
    return Response(
        orjson.dumps(body),
        status,
        media_type="application/json",
        headers={TOKEN_HEADER: token},
    )
