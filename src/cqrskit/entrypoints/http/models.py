"""Request bodies of the command service, validated at the edge."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Cents = Annotated[int, Field(strict=True, gt=0, le=10_000_000_000)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=10_000)]

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewProduct(Body):
    sku: Sku
    name: Name
    price_cents: Cents
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    category: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None
    ) = None


class NewPrice(Body):
    price_cents: Cents


class NewName(Body):
    name: Name


class RestockBody(Body):
    quantity: Annotated[int, Field(strict=True, ge=1, le=1_000_000)]


class NewCart(Body):
    customer_id: Id
    cart_id: Id | None = None


class NewItem(Body):
    sku: Sku
    quantity: Quantity


class LineQuantity(Body):
    quantity: Annotated[int, Field(strict=True, ge=0, le=10_000)]


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
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class CommandAnswer(BaseModel):
    stream_id: str
    version: int
    position: int
    consistency_token: str
    sku: str | None = None
    cart_id: str | None = None
    order_id: str | None = None
