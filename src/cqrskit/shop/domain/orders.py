"""Orders (`order-{order_id}`): placed with a payment authorization, then
shipped or cancelled. A declined card is recorded too: it is a business outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from cqrskit.core.decider import Decider
from cqrskit.core.errors import Conflict, NotFound, RuleViolated

Status = Literal["new", "placed", "shipped", "cancelled"]


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


@dataclass(frozen=True, slots=True)
class PaymentAuthorization:
    authorization_id: str
    amount_cents: int
    card_last4: str


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    order_id: str
    customer_id: str
    cart_id: str
    lines: tuple[OrderLine, ...]
    payment: PaymentAuthorization
    placed_at: str


@dataclass(frozen=True, slots=True)
class RecordDeclinedPayment:
    order_id: str
    customer_id: str
    cart_id: str
    amount_cents: int
    card_last4: str
    reason: str
    declined_at: str


@dataclass(frozen=True, slots=True)
class ShipOrder:
    order_id: str
    shipped_at: str


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str
    reason: str
    cancelled_at: str


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    order_id: str
    customer_id: str
    cart_id: str
    lines: tuple[OrderLine, ...]
    total_cents: int
    payment: PaymentAuthorization
    placed_at: str


@dataclass(frozen=True, slots=True)
class PaymentDeclined:
    order_id: str
    customer_id: str
    cart_id: str
    amount_cents: int
    card_last4: str
    reason: str
    declined_at: str


@dataclass(frozen=True, slots=True)
class OrderShipped:
    order_id: str
    shipped_at: str


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    order_id: str
    reason: str
    cancelled_at: str
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str = ""
    status: Status = "new"
    lines: tuple[OrderLine, ...] = ()
    authorization_id: str = ""
    customer_id: str = ""


def order_stream(order_id: str) -> str:
    return f"order-{order_id}"


def price_line(sku: str, name: str, quantity: int, unit_price_cents: int) -> OrderLine:
    return OrderLine(sku, name, quantity, unit_price_cents, quantity * unit_price_cents)


def evolve(state: Order, event: Any) -> Order:
    match event:
        case OrderPlaced(
            order_id=order_id, lines=lines, payment=payment, customer_id=customer
        ):
            return Order(order_id, "placed", lines, payment.authorization_id, customer)
        case OrderShipped():
            return replace(state, status="shipped")
        case OrderCancelled():
            return replace(state, status="cancelled")
    return state


def decide(command: Any, state: Order) -> list[Any]:
    match command:
        case PlaceOrder():
            if state.status != "new":
                raise Conflict(f"order {command.order_id} was already placed")
            if not command.lines:
                raise RuleViolated("an order needs at least one line")
            total = sum(line.line_total_cents for line in command.lines)
            return [
                OrderPlaced(
                    command.order_id,
                    command.customer_id,
                    command.cart_id,
                    command.lines,
                    total,
                    command.payment,
                    command.placed_at,
                )
            ]
        case RecordDeclinedPayment():
            if state.status != "new":
                raise Conflict(f"order {command.order_id} was already placed")
            return [
                PaymentDeclined(**{f: getattr(command, f) for f in _DECLINE_FIELDS})
            ]
        case ShipOrder():
            _require_placed(state, command.order_id, "shipped")
            return [OrderShipped(command.order_id, command.shipped_at)]
        case CancelOrder():
            _require_placed(state, command.order_id, "cancelled")
            return [
                OrderCancelled(
                    command.order_id, command.reason, command.cancelled_at, state.lines
                )
            ]
    raise TypeError(f"not an order command: {command!r}")


_DECLINE_FIELDS = PaymentDeclined.__dataclass_fields__.keys()


def _require_placed(state: Order, order_id: str, wanted: str) -> None:
    if state.status == "new":
        raise NotFound(f"order {order_id} does not exist")
    if state.status != "placed":
        raise RuleViolated(f"order {order_id} is {state.status}; it cannot be {wanted}")


order_decider: Decider[Order] = Decider(Order(), evolve, decide)

EVENTS = (OrderPlaced, PaymentDeclined, OrderShipped, OrderCancelled)
