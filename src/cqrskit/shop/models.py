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
    Field,
    StringConstraints,
)

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
    sku: Sku
    name: Name
    price_cents: Cents
    description: (
        Annotated[str, StringConstraints(max_length=2000, pattern=TEXT_PATTERN)] | None
    ) = None
    category: Category | None = None


class NewPrice(Body):
    price_cents: Cents


class NewName(Body):
    name: Name


class RestockBody(Body):
    quantity: Annotated[
        int, Field(strict=True, ge=1, le=1_000_000), BeforeValidator(integral)
    ]


class NewCart(Body):
    customer_id: Id | None = None
    """Left out: the caller's own id (the token's `sub`)."""
    cart_id: Id | None = None


class NewItem(Body):
    sku: Sku
    quantity: Quantity


class LineQuantity(Body):
    quantity: Annotated[
        int, Field(strict=True, ge=0, le=10_000), BeforeValidator(integral)
    ]


class PaymentBody(Body):
    card_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{12,19}$")]
    expiry: Annotated[
        str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])/([0-9]{2}|[0-9]{4})$")
    ]
    cvc: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,4}$")]


class NewOrder(Body):
    cart_id: Id
    payment: PaymentBody
    order_id: Id | None = None


class CancelBody(Body):
    reason: (
        Annotated[str, StringConstraints(max_length=500, pattern=TEXT_PATTERN)] | None
    ) = None


class CommandAnswer(kit.CommandAnswer):
    # The kit's answer with the ids the shop's commands name (no docstring:
    # it would become the schema's description).
    sku: str | None = None
    cart_id: str | None = None
    order_id: str | None = None


class Product(BaseModel):
    sku: str
    name: str
    description: str
    category: str
    price_cents: int
    available: int
    discontinued: bool


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None


class Line(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class Cart(BaseModel):
    cart_id: str
    customer_id: str
    items: list[Line]
    total_cents: int
    status: Literal["open", "checked_out"]


class Order(BaseModel):
    order_id: str
    customer_id: str
    lines: list[Line]
    total_cents: int
    status: Literal["placed", "shipped", "cancelled"]
    placed_at: str


class OrderPage(BaseModel):
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
