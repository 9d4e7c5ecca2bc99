"""Carts (`cart-{cart_id}`): lines of SKUs with the price seen when added."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cqrskit.core.decider import Decider
from cqrskit.core.errors import Conflict, Invalid, NotFound, RuleViolated

MAX_LINE_QUANTITY = 10_000


@dataclass(frozen=True, slots=True)
class CreateCart:
    cart_id: str
    customer_id: str


@dataclass(frozen=True, slots=True)
class AddItem:
    cart_id: str
    sku: str
    quantity: int
    name: str
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class RemoveItem:
    cart_id: str
    sku: str


@dataclass(frozen=True, slots=True)
class ChangeQuantity:
    cart_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Checkout:
    cart_id: str
    order_id: str


@dataclass(frozen=True, slots=True)
class CartCreated:
    cart_id: str
    customer_id: str


@dataclass(frozen=True, slots=True)
class ItemAdded:
    cart_id: str
    sku: str
    quantity: int
    name: str
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class ItemRemoved:
    cart_id: str
    sku: str


@dataclass(frozen=True, slots=True)
class QuantityChanged:
    cart_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CartCheckedOut:
    cart_id: str
    order_id: str


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class Cart:
    cart_id: str = ""
    customer_id: str = ""
    lines: tuple[Line, ...] = ()
    exists: bool = False
    checked_out: bool = False

    def line(self, sku: str) -> Line | None:
        return next((line for line in self.lines if line.sku == sku), None)


def cart_stream(cart_id: str) -> str:
    return f"cart-{cart_id}"


def _set_line(cart: Cart, line: Line) -> Cart:
    if cart.line(line.sku) is None:
        return replace(cart, lines=(*cart.lines, line))
    return replace(
        cart, lines=tuple(line if x.sku == line.sku else x for x in cart.lines)
    )


def evolve(state: Cart, event: Any) -> Cart:
    match event:
        case CartCreated(cart_id=cart_id, customer_id=customer_id):
            return Cart(cart_id=cart_id, customer_id=customer_id, exists=True)
        case ItemAdded(sku=sku, quantity=qty, name=name, unit_price_cents=price):
            old = state.line(sku)
            total = qty + (old.quantity if old else 0)
            return _set_line(state, Line(sku, name, total, price))
        case QuantityChanged(sku=sku, quantity=qty):
            old = state.line(sku)
            return (
                state if old is None else _set_line(state, replace(old, quantity=qty))
            )
        case ItemRemoved(sku=sku):
            return replace(state, lines=tuple(x for x in state.lines if x.sku != sku))
        case CartCheckedOut():
            return replace(state, checked_out=True)
    return state


def decide(command: Any, state: Cart) -> list[Any]:
    if isinstance(command, CreateCart):
        if state.exists:
            raise Conflict(f"cart {command.cart_id} already exists")
        return [CartCreated(command.cart_id, command.customer_id)]
    _require_open(state, command.cart_id)
    match command:
        case AddItem():
            _check_quantity(command.quantity, minimum=1)
            old = state.line(command.sku)
            _check_quantity(command.quantity + (old.quantity if old else 0), minimum=1)
            return [
                ItemAdded(
                    command.cart_id,
                    command.sku,
                    command.quantity,
                    command.name,
                    command.unit_price_cents,
                )
            ]
        case ChangeQuantity(sku=sku, quantity=qty):
            old = _require_line(state, sku)
            _check_quantity(qty, minimum=0)
            if qty == 0:
                return [ItemRemoved(command.cart_id, sku)]
            return (
                []
                if qty == old.quantity
                else [QuantityChanged(command.cart_id, sku, qty)]
            )
        case RemoveItem(sku=sku):
            _require_line(state, sku)
            return [ItemRemoved(command.cart_id, sku)]
        case Checkout(order_id=order_id):
            if not state.lines:
                raise RuleViolated(f"cart {command.cart_id} is empty")
            return [CartCheckedOut(command.cart_id, order_id)]
    raise TypeError(f"not a cart command: {command!r}")


def _require_open(state: Cart, cart_id: str) -> None:
    if not state.exists:
        raise NotFound(f"cart {cart_id} does not exist")
    if state.checked_out:
        raise RuleViolated(f"cart {cart_id} is already checked out")


def _require_line(state: Cart, sku: str) -> Line:
    line = state.line(sku)
    if line is None:
        raise NotFound(f"cart {state.cart_id} has no line for {sku}")
    return line


def _check_quantity(quantity: int, *, minimum: int) -> None:
    if not minimum <= quantity <= MAX_LINE_QUANTITY:
        raise Invalid(
            f"a line's quantity must be between {minimum} and {MAX_LINE_QUANTITY}"
        )


cart_decider: Decider[Cart] = Decider(Cart(), evolve, decide)

EVENTS = (CartCreated, ItemAdded, ItemRemoved, QuantityChanged, CartCheckedOut)
