"""The shop's HTTP models: what its routes accept (validated at the edge,
on the kit's patterns) and what they answer (documented in OpenAPI).

The query answers are documented here only: the documents are stored in this
shape and sent as they are, never built from these models.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.config import JsonDict

from cqrskit.entrypoints.http import models as kit
from cqrskit.entrypoints.http.models import (
    LINE_PATTERN,
    NAME_PATTERN,
    TEXT_PATTERN,
    Body,
    Id,
    integral,
)

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CURSOR_PATTERN = r"^[^\x00-\x1f\x7f]*~[^\x00-\x1f\x7f~]+$"
"""`{sort_key}~{member}`: where the last page ended. Any string of this shape
is a place in an index to go on from, so every one is accepted (the OpenAPI
document can say exactly which). Neither part holds a control character;
the member (a SKU or an id) holds no `~`, so the last `~` splits them."""

_TOKEN = "order-o1@1,cart-a1@4,inventory-MUG-01@7~Jx2m0nQ4sVb8Zk1pLr5tWg"
_CARD: JsonDict = {"card_number": "4242424242424242", "expiry": "12/30", "cvc": "123"}
_PRODUCT: JsonDict = {
    "sku": "MUG-01",
    "name": "Stoneware mug",
    "description": "350 ml, dishwasher safe",
    "category": "kitchen",
    "price_cents": 1250,
    "available": 40,
    "discontinued": False,
}
_LINE: JsonDict = {
    "sku": "MUG-01",
    "name": "Stoneware mug",
    "quantity": 2,
    "unit_price_cents": 1250,
    "line_total_cents": 2500,
}
_ORDER: JsonDict = {
    "order_id": "o1",
    "customer_id": "alice",
    "lines": [_LINE],
    "total_cents": 2500,
    "status": "placed",
    "placed_at": "2026-11-30T17:48:43Z",
}

Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=NAME_PATTERN),
    AfterValidator(str.strip),
]
Category = Annotated[
    str,
    StringConstraints(max_length=64, pattern=LINE_PATTERN),
    AfterValidator(str.strip),
]
Cents = Annotated[
    int, Field(strict=True, ge=1, le=10_000_000_000), BeforeValidator(integral)
]
Quantity = Annotated[
    int, Field(strict=True, ge=1, le=10_000), BeforeValidator(integral)
]


class NewProduct(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "HAT-01",
                    "name": "Wool hat",
                    "price_cents": 2400,
                    "category": "apparel",
                }
            ]
        }
    )
    sku: Sku
    name: Name
    price_cents: Cents
    description: (
        Annotated[str, StringConstraints(max_length=2000, pattern=TEXT_PATTERN)] | None
    ) = None
    category: Category | None = None


class NewPrice(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"price_cents": 2200}]})
    price_cents: Cents


class NewName(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Merino hat"}]})
    name: Name


class RestockBody(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"quantity": 10}]})
    quantity: Annotated[
        int, Field(strict=True, ge=1, le=1_000_000), BeforeValidator(integral)
    ]


class NewCart(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"cart_id": "a1"}]})
    customer_id: Id | None = None
    """Left out: the caller's own id (the token's `sub`)."""
    cart_id: Id | None = None


class NewItem(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"sku": "MUG-01", "quantity": 2}]}
    )
    sku: Sku
    quantity: Quantity


class LineQuantity(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"quantity": 3}]})
    quantity: Annotated[
        int, Field(strict=True, ge=0, le=10_000), BeforeValidator(integral)
    ]


class PaymentBody(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [_CARD]})
    card_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{12,19}$")]
    expiry: Annotated[
        str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])/([0-9]{2}|[0-9]{4})$")
    ]
    cvc: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,4}$")]


class NewOrder(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"cart_id": "a1", "order_id": "o1", "payment": _CARD}]
        }
    )
    cart_id: Id
    payment: PaymentBody
    order_id: Id | None = None


class CancelBody(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "changed my mind"}]}
    )
    reason: (
        Annotated[str, StringConstraints(max_length=500, pattern=TEXT_PATTERN)] | None
    ) = None


class CommandAnswer(kit.CommandAnswer):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "stream_id": "order-o1",
                    "version": 1,
                    "position": 42,
                    "consistency_token": _TOKEN,
                    "order_id": "o1",
                }
            ]
        }
    )
    # The kit's answer with the ids the shop's commands name (no docstring:
    # it would become the schema's description).
    sku: str | None = None
    cart_id: str | None = None
    order_id: str | None = None


class Product(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_PRODUCT]})
    sku: str
    name: str
    description: str
    category: str
    price_cents: int
    available: int
    discontinued: bool


class ProductPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_PRODUCT], "next_cursor": "MUG-01~MUG-01"}]
        }
    )
    items: list[Product]
    next_cursor: str | None


class Line(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_LINE]})
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class Cart(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cart_id": "a1",
                    "customer_id": "alice",
                    "items": [_LINE],
                    "total_cents": 2500,
                    "status": "open",
                }
            ]
        }
    )
    cart_id: str
    customer_id: str
    items: list[Line]
    total_cents: int
    status: Literal["open", "checked_out"]


class Order(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ORDER]})
    order_id: str
    customer_id: str
    lines: list[Line]
    total_cents: int
    status: Literal["placed", "shipped", "cancelled"]
    placed_at: str


class OrderPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_ORDER], "next_cursor": None}]}
    )
    items: list[Order]
    next_cursor: str | None


# --- the query strings of the listings ---------------------------------------

Limit = Annotated[int, Field(ge=1, le=100)]
Cursor = Annotated[str | None, Field(max_length=1024, pattern=CURSOR_PATTERN)]


class ProductsQuery(BaseModel):
    q: Annotated[str | None, Field(max_length=200, pattern=LINE_PATTERN)] = None
    category: Annotated[str | None, Field(max_length=64, pattern=LINE_PATTERN)] = None
    limit: Limit = 20
    cursor: Cursor = None


class HistoryQuery(BaseModel):
    limit: Limit = 20
    cursor: Cursor = None
