"""A small catalog with stock, loaded through the ordinary command path."""

from __future__ import annotations

from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import Conflict
from cqrskit.shop.domain.catalog import AddProduct
from cqrskit.shop.domain.inventory import Restock
from cqrskit.shop.service import ShopCommands

CATALOG: list[tuple[AddProduct, int]] = [
    (
        AddProduct(
            "MUG-01", "Stoneware mug", 1250, "350 ml, dishwasher safe", "kitchen"
        ),
        40,
    ),
    (AddProduct("TEA-01", "Sencha green tea", 890, "100 g loose leaf", "pantry"), 25),
    (AddProduct("KETTLE-01", "Gooseneck kettle", 5900, "1 l, stovetop", "kitchen"), 5),
    (AddProduct("BOOK-01", "Domain-Driven Design", 4500, "The blue book", "books"), 12),
    (AddProduct("LAMP-01", "Desk lamp", 3200, "Warm white LED", "home"), 8),
]


async def load_demo_data(commands: ShopCommands) -> int:
    """Add the demo catalog once; running it again changes nothing."""
    added = 0
    for product, stock in CATALOG:
        try:
            await commands.catalog(
                _context(f"demo-add-{product.sku}"), product, sku=product.sku
            )
            added += 1
        except Conflict:
            pass
        restock = Restock(product.sku, stock)
        await commands.restock(_context(f"demo-restock-{product.sku}"), restock)
    return added


def _context(key: str) -> CommandContext:
    return CommandContext(
        command_id=key, correlation_id="demo-data", idempotency_key=key, fingerprint=key
    )
