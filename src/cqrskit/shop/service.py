"""The shop's command handlers: each loads what it needs, decides, and
returns only an acknowledgement."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from cqrskit.core.auth import Principal
from cqrskit.core.dispatcher import CommandContext, Dispatcher, Handler, Plan
from cqrskit.core.errors import Conflict, NotFound, RuleViolated
from cqrskit.core.messages import Ack
from cqrskit.core.session import Session
from cqrskit.shop.domain import cart as c
from cqrskit.shop.domain import catalog as p
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain import orders as o
from cqrskit.shop.errors import PaymentDeclined
from cqrskit.shop.payments import Authorization, Card, PaymentGateway

log = logging.getLogger(__name__)


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ShopCommands:
    def __init__(
        self,
        dispatcher: Dispatcher,
        gateway: PaymentGateway,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], str],
    ) -> None:
        self._dispatcher = dispatcher
        self._gateway = gateway
        self._clock = clock
        self._new_id = new_id

    @property
    def gateway(self) -> PaymentGateway:
        return self._gateway

    async def catalog(self, ctx: CommandContext, command: object, *, sku: str) -> Ack:
        """AddProduct, ChangePrice, RenameProduct or DiscontinueProduct."""

        async def handle(session: Session) -> str:
            stream = p.product_stream(sku)
            if isinstance(command, p.AddProduct):
                await session.create(stream, p.product_decider, command)
            else:
                await session.execute(stream, p.product_decider, command)
            return stream

        return await self._dispatcher.dispatch(ctx, handle)

    async def restock(self, ctx: CommandContext, command: i.Restock) -> Ack:
        async def handle(session: Session) -> str:
            await _active_product(session, command.sku)
            stream = i.inventory_stream(command.sku)
            await session.execute(stream, i.inventory_decider, command)
            return stream

        stock = [i.inventory_stream(command.sku)]
        return await self._dispatcher.dispatch(ctx, handle, queue_on=stock)

    async def create_cart(
        self, ctx: CommandContext, customer_id: str, cart_id: str | None
    ) -> Ack:
        async def handle(session: Session) -> str:
            stream = c.cart_stream(new_cart_id)
            await session.create(
                stream, c.cart_decider, c.CreateCart(new_cart_id, customer_id)
            )
            return stream

        new_cart_id = cart_id or self._new_id()  # unused if the key replays
        return await self._dispatcher.dispatch(ctx, handle)

    async def add_item(
        self, ctx: CommandContext, cart_id: str, sku: str, quantity: int
    ) -> Ack:
        async def handle(session: Session) -> str:
            await _own_cart(session, cart_id, ctx.principal)
            product = await _active_product(session, sku)
            command = c.AddItem(
                cart_id, sku, quantity, product.name, product.price_cents
            )
            await session.execute(c.cart_stream(cart_id), c.cart_decider, command)
            return c.cart_stream(cart_id)

        return await self._dispatcher.dispatch(ctx, handle)

    async def cart(self, ctx: CommandContext, command: object, *, cart_id: str) -> Ack:
        """ChangeQuantity or RemoveItem."""

        async def handle(session: Session) -> str:
            await _own_cart(session, cart_id, ctx.principal)
            await session.execute(c.cart_stream(cart_id), c.cart_decider, command)
            return c.cart_stream(cart_id)

        return await self._dispatcher.dispatch(ctx, handle)

    async def place_order(
        self, ctx: CommandContext, cart_id: str, card: Card, order_id: str | None
    ) -> Ack:
        """Quote the cart and authorize the payment before deciding: only when
        the key has no stored answer (a replay must not charge the card again).
        The hold is voided unless this call places the order."""

        async def prepare() -> Plan:
            new_order_id = order_id or self._new_id()
            customer_id, lines = await self._quote(cart_id, ctx.principal)
            amount = sum(line.line_total_cents for line in lines)
            auth = await self._gateway.authorize(card, amount, reference=new_order_id)
            if not auth.approved:
                decline = self._decline(new_order_id, customer_id, cart_id, card, auth)
                return Plan(decline)

            async def void() -> None:
                await self._gateway.void(auth.authorization_id)

            placement = self._placement(
                new_order_id, cart_id, card, auth, ctx.principal
            )
            # Orders for the same SKU take turns in this process (core/turns.py).
            stock = [i.inventory_stream(line.sku) for line in lines]
            return Plan(placement, queue_on=stock, abandoned=void)

        return await self._dispatcher.dispatch_prepared(ctx, prepare)

    async def _quote(
        self, cart_id: str, principal: Principal | None
    ) -> tuple[str, list[o.OrderLine]]:
        session = self._dispatcher.session()
        cart = await _open_cart(session, cart_id, principal)
        return cart.customer_id, await _price_lines(session, cart)

    def _placement(
        self,
        order_id: str,
        cart_id: str,
        card: Card,
        auth: Authorization,
        principal: Principal | None,
    ) -> Handler:
        placed_at = rfc3339(self._clock())

        async def handle(session: Session) -> str:
            cart = await _open_cart(session, cart_id, principal)
            lines = await _price_lines(session, cart)
            if sum(line.line_total_cents for line in lines) != auth.amount_cents:
                raise Conflict(
                    "prices changed while the payment was authorized; try again"
                )
            for line in lines:
                reserve = i.ReserveStock(line.sku, line.quantity, order_id)
                await session.execute(
                    i.inventory_stream(line.sku), i.inventory_decider, reserve
                )
            await session.execute(
                c.cart_stream(cart_id), c.cart_decider, c.Checkout(cart_id, order_id)
            )
            payment = o.PaymentAuthorization(
                auth.authorization_id, auth.amount_cents, card.last4
            )
            place = o.PlaceOrder(
                order_id, cart.customer_id, cart_id, tuple(lines), payment, placed_at
            )
            await session.create(o.order_stream(order_id), o.order_decider, place)
            return o.order_stream(order_id)

        return handle

    def _decline(
        self,
        order_id: str,
        customer_id: str,
        cart_id: str,
        card: Card,
        auth: Authorization,
    ) -> Handler:
        """Records the declined payment on the order stream and refuses (402):
        the refusal is stored under the key with its event."""
        record = o.RecordDeclinedPayment(
            order_id,
            customer_id,
            cart_id,
            auth.amount_cents,
            card.last4,
            auth.reason,
            rfc3339(self._clock()),
        )

        async def handle(session: Session) -> str:
            await session.execute(o.order_stream(order_id), o.order_decider, record)
            session.reject(PaymentDeclined(f"the payment was declined: {auth.reason}"))
            return o.order_stream(order_id)

        return handle

    async def ship_order(self, ctx: CommandContext, order_id: str) -> Ack:
        async def handle(session: Session) -> str:
            ship = o.ShipOrder(order_id, rfc3339(self._clock()))
            await session.execute(o.order_stream(order_id), o.order_decider, ship)
            return o.order_stream(order_id)

        return await self._dispatcher.dispatch(ctx, handle)

    async def cancel_order(
        self, ctx: CommandContext, order_id: str, reason: str
    ) -> Ack:
        authorization: list[str] = []

        async def handle(session: Session) -> str:
            cancel = o.CancelOrder(order_id, reason, rfc3339(self._clock()))
            order = await session.load(o.order_stream(order_id), o.order_decider)
            if not _may_act_for(ctx.principal, order.customer_id):
                raise NotFound(f"order {order_id} does not exist")
            await session.execute(o.order_stream(order_id), o.order_decider, cancel)
            for line in order.lines:
                release = i.ReleaseStock(line.sku, line.quantity, order_id)
                await session.execute(
                    i.inventory_stream(line.sku), i.inventory_decider, release
                )
            authorization[:] = [order.authorization_id]
            return o.order_stream(order_id)

        async def void() -> None:
            if authorization:
                await self._gateway.void(authorization[0])

        async def prepare() -> Plan:
            return Plan(handle, committed=void)

        return await self._dispatcher.dispatch_prepared(ctx, prepare)


async def _active_product(session: Session, sku: str) -> p.Product:
    """Read, not written: the append checks the product has not changed since."""
    product = await session.read(p.product_stream(sku), p.product_decider)
    if not product.exists:
        raise NotFound(f"product {sku} does not exist")
    if product.discontinued:
        raise RuleViolated(f"product {sku} is discontinued")
    return product


def _may_act_for(principal: Principal | None, customer_id: str) -> bool:
    """The system itself (no principal) acts for anyone; a caller for the
    customers it owns. Checked on the event store's state (DESIGN.md rule 5)."""
    return principal is None or principal.owns(customer_id)


async def _own_cart(
    session: Session, cart_id: str, principal: Principal | None
) -> c.Cart:
    """The cart, if it exists and the caller may use it; else, alike, 404.
    Checked before anything about the cart's state."""
    cart = await session.load(c.cart_stream(cart_id), c.cart_decider)
    if not cart.exists or not _may_act_for(principal, cart.customer_id):
        raise NotFound(f"cart {cart_id} does not exist")
    return cart


async def _open_cart(
    session: Session, cart_id: str, principal: Principal | None
) -> c.Cart:
    cart = await _own_cart(session, cart_id, principal)
    if cart.checked_out:
        raise RuleViolated(f"cart {cart_id} is already checked out")
    if not cart.lines:
        raise RuleViolated(f"cart {cart_id} is empty")
    return cart


async def _price_lines(session: Session, cart: c.Cart) -> list[o.OrderLine]:
    """Orders charge today's catalog price, whatever the cart showed."""
    lines = []
    for line in cart.lines:
        product = await _active_product(session, line.sku)
        lines.append(
            o.price_line(line.sku, product.name, line.quantity, product.price_cents)
        )
    return lines
