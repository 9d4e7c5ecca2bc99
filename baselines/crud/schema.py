"""Normalised tables, created once before any worker starts.

`audit` is the shop's history table: every change writes one row per entity
it changed, in the same transaction, and `GET /streams/{id}` reads it. Nothing
reads it back to decide anything; its sequence gives the `position` of the
answers. Carts keep the price seen when a line was added; orders keep the
name and price they were placed at.
"""

from __future__ import annotations

import asyncpg

DDL = """
CREATE SEQUENCE IF NOT EXISTS positions;
CREATE TABLE IF NOT EXISTS products (
    sku text PRIMARY KEY,
    name text NOT NULL,
    description text NOT NULL,
    category text NOT NULL,
    price_cents bigint NOT NULL,
    discontinued boolean NOT NULL DEFAULT false,
    version integer NOT NULL
);
CREATE INDEX IF NOT EXISTS products_by_category ON products (category, sku);
CREATE TABLE IF NOT EXISTS stock (
    sku text PRIMARY KEY REFERENCES products,
    available bigint NOT NULL DEFAULT 0,
    reserved bigint NOT NULL DEFAULT 0,
    version integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS carts (
    cart_id text PRIMARY KEY,
    customer_id text NOT NULL,
    status text NOT NULL DEFAULT 'open',
    version integer NOT NULL
);
CREATE TABLE IF NOT EXISTS cart_lines (
    cart_id text NOT NULL REFERENCES carts,
    sku text NOT NULL REFERENCES products,
    quantity integer NOT NULL,
    unit_price_cents bigint NOT NULL,
    line_no bigint NOT NULL,
    PRIMARY KEY (cart_id, sku)
);
CREATE TABLE IF NOT EXISTS orders (
    order_id text PRIMARY KEY,
    customer_id text NOT NULL,
    status text NOT NULL,
    total_cents bigint NOT NULL,
    placed_at timestamptz NOT NULL,
    authorization_id text NOT NULL,
    seq bigint NOT NULL,
    version integer NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id, seq DESC);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id text NOT NULL REFERENCES orders,
    line_no integer NOT NULL,
    sku text NOT NULL,
    name text NOT NULL,
    quantity integer NOT NULL,
    unit_price_cents bigint NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE IF NOT EXISTS audit (
    position bigint PRIMARY KEY DEFAULT nextval('positions'),
    stream_id text NOT NULL,
    version integer NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    correlation_id text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS idempotency (
    key text PRIMARY KEY,
    fingerprint text NOT NULL,
    status integer NOT NULL,
    body bytea NOT NULL
);
"""


async def create_schema(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(DDL)
    finally:
        await conn.close()
