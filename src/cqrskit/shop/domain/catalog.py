"""Products: the catalog's streams (`product-{sku}`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cqrskit.core.decider import Decider
from cqrskit.core.errors import Conflict, Invalid, NotFound, RuleViolated


@dataclass(frozen=True, slots=True)
class AddProduct:
    sku: str
    name: str
    price_cents: int
    description: str = ""
    category: str = ""


@dataclass(frozen=True, slots=True)
class ChangePrice:
    sku: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class RenameProduct:
    sku: str
    name: str


@dataclass(frozen=True, slots=True)
class DiscontinueProduct:
    sku: str


@dataclass(frozen=True, slots=True)
class ProductAdded:
    sku: str
    name: str
    price_cents: int
    description: str
    category: str


@dataclass(frozen=True, slots=True)
class PriceChanged:
    sku: str
    price_cents: int
    previous_price_cents: int


@dataclass(frozen=True, slots=True)
class ProductRenamed:
    sku: str
    name: str


@dataclass(frozen=True, slots=True)
class ProductDiscontinued:
    sku: str


@dataclass(frozen=True, slots=True)
class Product:
    sku: str = ""
    name: str = ""
    price_cents: int = 0
    exists: bool = False
    discontinued: bool = False


def product_stream(sku: str) -> str:
    return f"product-{sku}"


def evolve(state: Product, event: Any) -> Product:
    match event:
        case ProductAdded(sku=sku, name=name, price_cents=price):
            return Product(sku=sku, name=name, price_cents=price, exists=True)
        case PriceChanged(price_cents=price):
            return replace(state, price_cents=price)
        case ProductRenamed(name=name):
            return replace(state, name=name)
        case ProductDiscontinued():
            return replace(state, discontinued=True)
    return state


def decide(command: Any, state: Product) -> list[Any]:
    match command:
        case AddProduct():
            if state.exists:
                raise Conflict(f"product {command.sku} already exists")
            _check_price(command.price_cents)
            return [
                ProductAdded(
                    command.sku,
                    command.name,
                    command.price_cents,
                    command.description,
                    command.category,
                )
            ]
        case ChangePrice(price_cents=price):
            _require_active(state, command.sku)
            _check_price(price)
            if price == state.price_cents:
                return []
            return [PriceChanged(command.sku, price, state.price_cents)]
        case RenameProduct(name=name):
            _require_active(state, command.sku)
            return [] if name == state.name else [ProductRenamed(command.sku, name)]
        case DiscontinueProduct():
            _require_exists(state, command.sku)
            return [] if state.discontinued else [ProductDiscontinued(command.sku)]
    raise TypeError(f"not a catalog command: {command!r}")


def _check_price(price_cents: int) -> None:
    if price_cents <= 0:
        raise Invalid("price_cents must be a positive number of cents")


def _require_exists(state: Product, sku: str) -> None:
    if not state.exists:
        raise NotFound(f"product {sku} does not exist")


def _require_active(state: Product, sku: str) -> None:
    _require_exists(state, sku)
    if state.discontinued:
        raise RuleViolated(f"product {sku} is discontinued")


product_decider: Decider[Product] = Decider(Product(), evolve, decide)

EVENTS = (ProductAdded, PriceChanged, ProductRenamed, ProductDiscontinued)
