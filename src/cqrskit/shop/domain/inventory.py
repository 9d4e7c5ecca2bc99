"""Stock per SKU (`inventory-{sku}`): available = added - reserved + released.

The fold is linear in the stream (see holds.py), so a snapshot or a cached
state plus the events after it equals the fold from the start."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from cqrskit.core.decider import Decider
from cqrskit.core.errors import Invalid, RuleViolated
from cqrskit.core.messages import JsonDict
from cqrskit.shop.domain.holds import Holds


@dataclass(frozen=True, slots=True)
class Restock:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ReserveStock:
    sku: str
    quantity: int
    order_id: str


@dataclass(frozen=True, slots=True)
class ReleaseStock:
    sku: str
    quantity: int
    order_id: str


@dataclass(frozen=True, slots=True)
class StockAdded:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StockReserved:
    sku: str
    quantity: int
    order_id: str


@dataclass(frozen=True, slots=True)
class StockReleased:
    sku: str
    quantity: int
    order_id: str


@dataclass(frozen=True, slots=True)
class Stock:
    available: int = 0
    reserved: int = 0
    by_order: Holds = field(default_factory=Holds)
    """What each order still holds, so an order releases only its own stock."""

    def held_by(self, order_id: str) -> int:
        return self.by_order.get(order_id)

    def hold(self, order_id: str, delta: int) -> Holds:
        return self.by_order.add(order_id, delta)


def inventory_stream(sku: str) -> str:
    return f"inventory-{sku}"


def evolve(state: Stock, event: Any) -> Stock:
    match event:
        case StockAdded(quantity=qty):
            return replace(state, available=state.available + qty)
        case StockReserved(quantity=qty, order_id=order_id):
            return Stock(
                state.available - qty, state.reserved + qty, state.hold(order_id, qty)
            )
        case StockReleased(quantity=qty, order_id=order_id):
            return Stock(
                state.available + qty, state.reserved - qty, state.hold(order_id, -qty)
            )
    return state


def decide(command: Any, state: Stock) -> list[Any]:
    if not isinstance(command, Restock | ReserveStock | ReleaseStock):
        raise TypeError(f"not an inventory command: {command!r}")
    if command.quantity <= 0:
        raise Invalid("quantity must be a positive whole number")
    match command:
        case Restock():
            return [StockAdded(command.sku, command.quantity)]
        case ReserveStock():
            if command.quantity > state.available:
                raise RuleViolated(
                    f"not enough stock of {command.sku}: {state.available} available, "
                    f"{command.quantity} requested"
                )
            return [StockReserved(command.sku, command.quantity, command.order_id)]
    if command.quantity > state.held_by(command.order_id):
        raise RuleViolated(
            f"cannot release more {command.sku} than is reserved "
            f"for order {command.order_id}"
        )
    return [StockReleased(command.sku, command.quantity, command.order_id)]


def dump_stock(state: Stock) -> JsonDict:
    return {
        "available": state.available,
        "reserved": state.reserved,
        "by_order": state.by_order.as_dict(),
    }


def load_stock(data: JsonDict) -> Stock:
    return Stock(data["available"], data["reserved"], Holds.restore(data["by_order"]))


EVENTS = (StockAdded, StockReserved, StockReleased)

inventory_decider: Decider[Stock] = Decider(
    Stock(),
    evolve,
    decide,
    name="inventory",
    fold_version=2,
    events=EVENTS,
    dump_state=dump_stock,
    load_state=load_stock,
)
