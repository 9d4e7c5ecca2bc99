"""Catalog, stock and cart commands: each one ordinary transaction that locks
the rows it changes (the caller opens the transaction)."""

from __future__ import annotations

import uuid

import asyncpg

from baselines.crud.audit import Ack, record, unchanged
from baselines.crud.problems import Conflict, Invalid, NotFound
from cqrskit.shop import models as m

MAX_LINE_QUANTITY = 10_000
Conn = asyncpg.pool.PoolConnectionProxy


async def add_product(conn: Conn, cid: str, body: m.NewProduct) -> Ack:
    added = await conn.fetchval(
        "INSERT INTO products (sku, name, description, category, price_cents,"
        " version) VALUES ($1, $2, $3, $4, $5, 1)"
        " ON CONFLICT DO NOTHING RETURNING version",
        body.sku,
        body.name,
        body.description or "",
        body.category or "",
        body.price_cents,
    )
    if added is None:
        raise Conflict(f"product {body.sku} already exists")
    await conn.execute("INSERT INTO stock (sku) VALUES ($1)", body.sku)
    stream = f"product-{body.sku}"
    data = body.model_dump()
    position = await record(conn, cid, [(stream, 1, "ProductAdded", data)])
    return Ack(stream, 1, position, {"sku": body.sku})


async def change_product(
    conn: Conn, cid: str, sku: str, column: str, value: object, event: str
) -> Ack:
    """Set one column (`price_cents`, `name`, `discontinued`) of a live product."""
    row = await conn.fetchrow(
        f"SELECT {column} AS value, discontinued, version FROM products"
        " WHERE sku = $1 FOR UPDATE",
        sku,
    )
    stream = f"product-{sku}"
    if row is None:
        raise NotFound(f"product {sku} does not exist")
    if row["value"] == value:
        return await unchanged(conn, stream, row["version"])
    if row["discontinued"]:
        raise Conflict(f"product {sku} is discontinued")
    version = await conn.fetchval(
        f"UPDATE products SET {column} = $2, version = version + 1"
        " WHERE sku = $1 RETURNING version",
        sku,
        value,
    )
    data = {"sku": sku} | ({} if column == "discontinued" else {column: value})
    position = await record(conn, cid, [(stream, version, event, data)])
    return Ack(stream, version, position, {"sku": sku})


async def restock(conn: Conn, cid: str, sku: str, quantity: int) -> Ack:
    version = await conn.fetchval(
        "UPDATE stock SET available = available + $2, version = version + 1"
        " WHERE sku = $1 RETURNING version",
        sku,
        quantity,
    )
    if version is None:
        raise NotFound(f"product {sku} does not exist")
    stream = f"inventory-{sku}"
    data = {"sku": sku, "quantity": quantity}
    position = await record(conn, cid, [(stream, version, "StockAdded", data)])
    return Ack(stream, version, position, {"sku": sku})


async def create_cart(conn: Conn, cid: str, body: m.NewCart) -> Ack:
    cart_id = body.cart_id or uuid.uuid4().hex
    created = await conn.fetchval(
        "INSERT INTO carts (cart_id, customer_id, version) VALUES ($1, $2, 1)"
        " ON CONFLICT DO NOTHING RETURNING version",
        cart_id,
        body.customer_id,
    )
    if created is None:
        raise Conflict(f"cart {cart_id} already exists")
    stream = f"cart-{cart_id}"
    data = {"cart_id": cart_id, "customer_id": body.customer_id}
    position = await record(conn, cid, [(stream, 1, "CartCreated", data)])
    return Ack(stream, 1, position, {"cart_id": cart_id})


async def open_cart(conn: Conn, cart_id: str) -> int:
    """Lock an open cart; its version."""
    row = await conn.fetchrow(
        "SELECT status, version FROM carts WHERE cart_id = $1 FOR UPDATE", cart_id
    )
    if row is None:
        raise NotFound(f"cart {cart_id} does not exist")
    if row["status"] != "open":
        raise Conflict(f"cart {cart_id} is already checked out")
    version: int = row["version"]
    return version


async def add_item(conn: Conn, cid: str, cart_id: str, body: m.NewItem) -> Ack:
    await open_cart(conn, cart_id)
    product = await conn.fetchrow(
        "SELECT p.name, p.price_cents, p.discontinued, l.quantity AS held"
        " FROM products p LEFT JOIN cart_lines l"
        " ON l.sku = p.sku AND l.cart_id = $2 WHERE p.sku = $1",
        body.sku,
        cart_id,
    )
    if product is None:
        raise NotFound(f"product {body.sku} does not exist")
    if product["discontinued"]:
        raise Conflict(f"product {body.sku} is discontinued")
    if body.quantity + (product["held"] or 0) > MAX_LINE_QUANTITY:
        raise Invalid(f"a line's quantity must be between 1 and {MAX_LINE_QUANTITY}")
    await conn.execute(
        "INSERT INTO cart_lines (cart_id, sku, quantity, unit_price_cents, line_no)"
        " VALUES ($1, $2, $3, $4, nextval('positions'))"
        " ON CONFLICT (cart_id, sku)"
        " DO UPDATE SET quantity = cart_lines.quantity + excluded.quantity",
        cart_id,
        body.sku,
        body.quantity,
        product["price_cents"],
    )
    data = body.model_dump() | {
        "cart_id": cart_id,
        "name": product["name"],
        "unit_price_cents": product["price_cents"],
    }
    return await _cart_changed(conn, cid, cart_id, "ItemAdded", data)


async def set_quantity(
    conn: Conn, cid: str, cart_id: str, sku: str, quantity: int | None
) -> Ack:
    """Change a line's quantity; None or 0 removes the line."""
    version = await open_cart(conn, cart_id)
    held = await conn.fetchval(
        "SELECT quantity FROM cart_lines WHERE cart_id = $1 AND sku = $2",
        cart_id,
        sku,
    )
    if held is None:
        raise NotFound(f"cart {cart_id} has no line for {sku}")
    if held == quantity:
        return await unchanged(conn, f"cart-{cart_id}", version)
    data: dict[str, object] = {"cart_id": cart_id, "sku": sku}
    if not quantity:
        await conn.execute(
            "DELETE FROM cart_lines WHERE cart_id = $1 AND sku = $2", cart_id, sku
        )
        return await _cart_changed(conn, cid, cart_id, "ItemRemoved", data)
    await conn.execute(
        "UPDATE cart_lines SET quantity = $3 WHERE cart_id = $1 AND sku = $2",
        cart_id,
        sku,
        quantity,
    )
    data["quantity"] = quantity
    return await _cart_changed(conn, cid, cart_id, "QuantityChanged", data)


async def _cart_changed(
    conn: Conn, cid: str, cart_id: str, event: str, data: dict[str, object]
) -> Ack:
    version = await conn.fetchval(
        "UPDATE carts SET version = version + 1 WHERE cart_id = $1 RETURNING version",
        cart_id,
    )
    stream = f"cart-{cart_id}"
    position = await record(conn, cid, [(stream, version, event, data)])
    return Ack(stream, version, position, {"cart_id": cart_id})
