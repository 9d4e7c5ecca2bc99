"""What the HTTP services accept, validated at the edge.

Every constraint here is also what the OpenAPI documents say, so a client
that follows the documents is never refused and nothing the documents refuse
reaches a store. Strings refuse control characters (NUL above all: PostgreSQL
cannot store it and some read stores use it as a separator); free text keeps
tab and line breaks. Integers accept an integral float (`1046.0`) because JSON
Schema's `integer` does; fractions, booleans and strings stay refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"

_CONTROL = r"\x00-\x1f\x7f"
# Every character str.strip() removes that is not a control character.
_SPACE = r" \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
LINE_PATTERN = rf"^[^{_CONTROL}]*$"
"""One line of text: no control characters."""
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Free text: no control characters but tab, line feed and carriage return."""
NAME_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"
"""One line with at least one character that is not white space."""

PLAIN_WORDS = {
    LINE_PATTERN: "should be one line without control characters",
    TEXT_PATTERN: "should hold no control characters but tab and line breaks",
    NAME_PATTERN: "should be one line, not blank, without control characters",
}
"""What a refusal by one of the text patterns tells a client, instead of the
pattern itself."""


def _integral(value: object) -> object:
    """`1046.0` is the integer 1046 to JSON Schema; hand it on as one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
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
    int, Field(strict=True, ge=1, le=10_000_000_000), BeforeValidator(_integral)
]
Quantity = Annotated[
    int, Field(strict=True, ge=1, le=10_000), BeforeValidator(_integral)
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
        int, Field(strict=True, ge=1, le=1_000_000), BeforeValidator(_integral)
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
        int, Field(strict=True, ge=0, le=10_000), BeforeValidator(_integral)
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


class Event(BaseModel):
    stream_id: str
    version: int
    position: int
    type: str
    schema_version: int
    recorded_at: str
    metadata: dict[str, str]
    data: dict[str, Any]


class AuditTrail(BaseModel):
    """A stream's events in order (documents the answer; not built per call)."""

    stream_id: str
    version: int
    events: list[Event]


class CommandAnswer(BaseModel):
    stream_id: str
    version: int
    position: int
    consistency_token: str
    sku: str | None = None
    cart_id: str | None = None
    order_id: str | None = None


# --- what the query service answers (documented; the documents are stored
# in this shape and sent as they are, never built from these models) ---------


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
