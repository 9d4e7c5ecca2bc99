"""The reads: JOIN queries on the same tables the writes lock, answered as
the same JSON documents the cqrskit query service sends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

import asyncpg

Conn = asyncpg.pool.PoolConnectionProxy
Json = dict[str, Any]

_PRODUCT = (
    "SELECT p.sku, p.name, p.description, p.category, p.price_cents, s.available,"
    " p.discontinued FROM products p JOIN stock s USING (sku)"
)
_ORDER = (
    "SELECT o.order_id, o.customer_id, o.status, o.total_cents, o.placed_at,"
    " o.seq, l.sku, l.name, l.quantity, l.unit_price_cents"
)


async def product(conn: Conn, sku: str) -> Json | None:
    row = await conn.fetchrow(f"{_PRODUCT} WHERE p.sku = $1", sku)
    return dict(row) if row else None


async def products(
    conn: Conn, q: str | None, category: str | None, limit: int, after: str
) -> tuple[list[Json], str | None]:
    """A page by SKU; `q` is a case-insensitive substring of name or SKU."""
    rows = await conn.fetch(
        f"{_PRODUCT} WHERE p.sku > $1 AND ($2::text IS NULL OR p.category = $2)"
        " AND ($3::text IS NULL OR strpos(lower(p.name), $3) > 0"
        " OR strpos(lower(p.sku), $3) > 0) ORDER BY p.sku LIMIT $4",
        after,
        category,
        q.lower() if q else None,
        limit + 1,
    )
    items = [dict(r) for r in rows[:limit]]
    more = len(rows) > limit
    return items, (f"{items[-1]['sku']}~{items[-1]['sku']}" if more else None)


async def cart(conn: Conn, cart_id: str) -> Json | None:
    rows = await conn.fetch(
        "SELECT c.cart_id, c.customer_id, c.status, l.sku, p.name, l.quantity,"
        " l.unit_price_cents FROM carts c"
        " LEFT JOIN cart_lines l USING (cart_id) LEFT JOIN products p USING (sku)"
        " WHERE c.cart_id = $1 ORDER BY l.line_no",
        cart_id,
    )
    if not rows:
        return None
    items = [_line(r) for r in rows if r["sku"] is not None]
    return {
        "cart_id": cart_id,
        "customer_id": rows[0]["customer_id"],
        "items": items,
        "total_cents": sum(i["line_total_cents"] for i in items),
        "status": rows[0]["status"],
    }


async def order(conn: Conn, order_id: str) -> Json | None:
    rows = await conn.fetch(
        f"{_ORDER} FROM orders o JOIN order_lines l USING (order_id)"
        " WHERE o.order_id = $1 ORDER BY l.line_no",
        order_id,
    )
    found = _orders(rows)
    return found[0][1] if found else None


async def customer_orders(
    conn: Conn, customer_id: str, limit: int, before: int
) -> tuple[list[Json], str | None]:
    """Newest first; a page ends at the `seq` its cursor names."""
    rows = await conn.fetch(
        f"{_ORDER} FROM (SELECT * FROM orders WHERE customer_id = $1 AND seq < $2"
        " ORDER BY seq DESC LIMIT $3) o JOIN order_lines l USING (order_id)"
        " ORDER BY o.seq DESC, l.line_no",
        customer_id,
        before,
        limit + 1,
    )
    found = _orders(rows)
    page = found[:limit]
    more = len(found) > limit
    cursor = f"{page[-1][0]}~{page[-1][1]['order_id']}" if more else None
    return [body for _, body in page], cursor


def _orders(rows: Sequence[asyncpg.Record]) -> list[tuple[int, Json]]:
    """Rows of order and line, grouped into order documents (with their seq)."""
    grouped: dict[str, tuple[int, Json]] = {}
    for r in rows:
        if r["order_id"] not in grouped:
            grouped[r["order_id"]] = (
                r["seq"],
                {
                    "order_id": r["order_id"],
                    "customer_id": r["customer_id"],
                    "lines": [],
                    "total_cents": r["total_cents"],
                    "status": r["status"],
                    "placed_at": r["placed_at"].astimezone(UTC).isoformat(),
                },
            )
        grouped[r["order_id"]][1]["lines"].append(_line(r))
    return list(grouped.values())


def _line(r: asyncpg.Record) -> Json:
    return {
        "sku": r["sku"],
        "name": r["name"],
        "quantity": r["quantity"],
        "unit_price_cents": r["unit_price_cents"],
        "line_total_cents": r["quantity"] * r["unit_price_cents"],
    }
