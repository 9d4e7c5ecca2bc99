"""Placing, shipping and cancelling orders.

Placing is the complex write: authorize the card, then lock the SKUs' stock
rows in SKU order (so two orders never deadlock), check every line, reserve,
check the cart out and record the order, all in one transaction. Two
customers racing for the last unit queue on its stock row: the first takes
it, the second finds none and gets a 409.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from baselines.crud import payments
from baselines.crud.audit import Ack, Change, record
from baselines.crud.problems import Conflict, Declined, NotFound
from baselines.crud.writes import open_cart
from cqrskit.shop import models as m

Conn = asyncpg.pool.PoolConnectionProxy

_LOCK_STOCK = (
    "SELECT sku, available FROM stock WHERE sku = ANY($1::text[])"
    " ORDER BY sku FOR UPDATE"
)
_MOVE_STOCK = """
UPDATE stock s SET available = s.available - u.q, reserved = s.reserved + u.q,
    version = s.version + 1
FROM unnest($1::text[], $2::int[]) AS u(sku, q) WHERE s.sku = u.sku
RETURNING s.sku, s.version
"""


async def place_order(conn: Conn, cid: str, body: m.NewOrder) -> Ack:
    order_id = body.order_id or uuid.uuid4().hex
    cart_version = await open_cart(conn, body.cart_id)
    lines = await conn.fetch(
        "SELECT l.sku, p.name, l.quantity, l.unit_price_cents"
        " FROM cart_lines l JOIN products p USING (sku)"
        " WHERE l.cart_id = $1 ORDER BY l.line_no",
        body.cart_id,
    )
    if not lines:
        raise Conflict(f"cart {body.cart_id} is empty")
    if await conn.fetchval("SELECT 1 FROM orders WHERE order_id = $1", order_id):
        raise Conflict(f"order {order_id} was already placed")
    card = body.payment
    auth_id, declined = payments.authorize(card.card_number, card.expiry, order_id)
    if declined:
        raise Declined(f"the payment was declined: {declined}")
    wanted = {line["sku"]: line["quantity"] for line in lines}
    for row in await conn.fetch(_LOCK_STOCK, list(wanted)):
        if row["available"] < wanted[row["sku"]]:
            raise Conflict(  # the test gateway keeps no hold to void
                f"not enough stock of {row['sku']}: {row['available']} available, "
                f"{wanted[row['sku']]} requested"
            )
    moved = await conn.fetch(_MOVE_STOCK, list(wanted), list(wanted.values()))
    changes = _stock_changes(moved, wanted, order_id, "StockReserved")
    await conn.execute(
        "UPDATE carts SET status = 'checked_out', version = version + 1"
        " WHERE cart_id = $1",
        body.cart_id,
    )
    checkout = {"cart_id": body.cart_id, "order_id": order_id}
    changes.append(
        (f"cart-{body.cart_id}", cart_version + 1, "CartCheckedOut", checkout)
    )
    changes.append(await _insert_order(conn, order_id, body.cart_id, lines, auth_id))
    position = await record(conn, cid, changes)
    return Ack(f"order-{order_id}", 1, position, {"order_id": order_id})


async def _insert_order(
    conn: Conn,
    order_id: str,
    cart_id: str,
    lines: list[asyncpg.Record],
    auth_id: str,
) -> Change:
    total = sum(line["quantity"] * line["unit_price_cents"] for line in lines)
    placed_at = datetime.now(UTC)
    customer_id = await conn.fetchval(
        "INSERT INTO orders (order_id, customer_id, status, total_cents, placed_at,"
        " authorization_id, seq, version)"
        " SELECT $1, customer_id, 'placed', $3, $4, $5, nextval('positions'), 1"
        " FROM carts WHERE cart_id = $2 RETURNING customer_id",
        order_id,
        cart_id,
        total,
        placed_at,
        auth_id,
    )
    await conn.executemany(
        "INSERT INTO order_lines (order_id, line_no, sku, name, quantity,"
        " unit_price_cents) VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (order_id, n, line["sku"], line["name"], line["quantity"],
             line["unit_price_cents"])
            for n, line in enumerate(lines)
        ],
    )  # fmt: skip
    data = {
        "order_id": order_id,
        "customer_id": customer_id,
        "cart_id": cart_id,
        "lines": [dict(line) for line in lines],
        "total_cents": total,
        "authorization_id": auth_id,
        "placed_at": placed_at.isoformat(),
    }
    return (f"order-{order_id}", 1, "OrderPlaced", data)


def _stock_changes(
    moved: list[asyncpg.Record], quantities: dict[str, int], order_id: str, event: str
) -> list[Change]:
    """A history row per stock row moved, at its new version."""
    return [
        (
            f"inventory-{r['sku']}",
            r["version"],
            event,
            {"sku": r["sku"], "quantity": quantities[r["sku"]], "order_id": order_id},
        )
        for r in moved
    ]


async def _placed(conn: Conn, order_id: str, wanted: str) -> None:
    status = await conn.fetchval(
        "SELECT status FROM orders WHERE order_id = $1 FOR UPDATE", order_id
    )
    if status is None:
        raise NotFound(f"order {order_id} does not exist")
    if status != "placed":
        raise Conflict(f"order {order_id} is {status}; it cannot be {wanted}")


async def _set_status(conn: Conn, order_id: str, status: str) -> int:
    version: int = await conn.fetchval(
        "UPDATE orders SET status = $2, version = version + 1"
        " WHERE order_id = $1 RETURNING version",
        order_id,
        status,
    )
    return version


async def ship_order(conn: Conn, cid: str, order_id: str) -> Ack:
    await _placed(conn, order_id, "shipped")
    version = await _set_status(conn, order_id, "shipped")
    stream = f"order-{order_id}"
    data = {"order_id": order_id}
    position = await record(conn, cid, [(stream, version, "OrderShipped", data)])
    return Ack(stream, version, position, {"order_id": order_id})


async def cancel_order(conn: Conn, cid: str, order_id: str, reason: str) -> Ack:
    """Cancel a placed order and put its units back on sale."""
    await _placed(conn, order_id, "cancelled")
    lines = await conn.fetch(
        "SELECT sku, sum(quantity)::int AS q FROM order_lines"
        " WHERE order_id = $1 GROUP BY sku",
        order_id,
    )
    skus = [line["sku"] for line in lines]
    await conn.fetch(_LOCK_STOCK, skus)
    moved = await conn.fetch(_MOVE_STOCK, skus, [-line["q"] for line in lines])
    released = {line["sku"]: line["q"] for line in lines}
    changes = _stock_changes(moved, released, order_id, "StockReleased")
    version = await _set_status(conn, order_id, "cancelled")
    stream = f"order-{order_id}"
    data = {"order_id": order_id, "reason": reason}
    changes.append((stream, version, "OrderCancelled", data))
    position = await record(conn, cid, changes)
    return Ack(stream, version, position, {"order_id": order_id})
