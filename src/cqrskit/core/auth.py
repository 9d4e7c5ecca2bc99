"""Who is asking: the principal a verified bearer token names.

The core knows principals and the port that yields them; how a token is
verified (which library, which keys) is an adapter's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

CUSTOMER = "customer"
ADMIN = "admin"


class Access(StrEnum):
    """Who may call a route: data of each route an application declares."""

    PUBLIC = "public"
    """No token needed (the catalog reads)."""
    CUSTOMER = "customer"
    """A customer on their own resources, or an admin on anyone's."""
    ADMIN = "admin"
    """Operators only: catalog, prices, inventory, shipping, audit trails."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller: `subject` is the customer id, `roles` what it may do."""

    subject: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_customer(self) -> bool:
        return CUSTOMER in self.roles

    def owns(self, customer_id: str) -> bool:
        """May act on a resource of `customer_id`: its owner, or an admin."""
        return self.is_admin or (self.is_customer and customer_id == self.subject)


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal:
        """The token's principal; Unauthenticated if it does not verify."""
        ...
