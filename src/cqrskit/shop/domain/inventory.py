"""Stock per SKU (`inventory-{sku}`): available = added - reserved + released."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cqrskit.core.decider import Decider
from cqrskit.core.errors import Invalid, RuleViolated


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


def inventory_stream(sku: str) -> str:
    return f"inventory-{sku}"


def evolve(state: Stock, event: Any) -> Stock:
    match event:
        case StockAdded(quantity=qty):
            return replace(state, available=state.available + qty)
        case StockReserved(quantity=qty):
            return Stock(state.available - qty, state.reserved + qty)
        case StockReleased(quantity=qty):
            return Stock(state.available + qty, state.reserved - qty)
    return state


def decide(command: Any, state: Stock) -> list[Any]:
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
        case ReleaseStock():
            if command.quantity > state.reserved:
                raise RuleViolated(f"cannot release more {command.sku} than is reserved")
            return [StockReleased(command.sku, command.quantity, command.order_id)]
    raise TypeError(f"not an inventory command: {command!r}")


inventory_decider: Decider[Stock] = Decider(Stock(), evolve, decide)

EVENTS = (StockAdded, StockReserved, StockReleased)
