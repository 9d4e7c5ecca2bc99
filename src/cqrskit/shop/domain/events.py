"""Every event type of the shop, for the codec."""

from __future__ import annotations

from typing import Any

from cqrskit.core.codec import EventCodec
from cqrskit.shop.domain import cart, catalog, inventory, orders

ALL_EVENTS: tuple[type[Any], ...] = (
    *catalog.EVENTS,
    *inventory.EVENTS,
    *cart.EVENTS,
    *orders.EVENTS,
)


def shop_codec() -> EventCodec:
    return EventCodec(ALL_EVENTS)
