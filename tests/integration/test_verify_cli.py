"""`cqrskit verify` from the command line: clean views exit 0; a tampered
document exits 1 and is named; an unknown projection is a usage error."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis
from click.testing import CliRunner, Result

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.adapters.sqlite import SqliteEventStore
from cqrskit.entrypoints.cli import main
from cqrskit.runtime.bootstrap import command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.demo import load_demo_data
from services import REDIS_URL, require


def cqrskit(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {
        "CQRSKIT_EVENT_STORE_URL": f"sqlite:///{tmp_path}/events.db",
        "CQRSKIT_READ_STORE_URL": f"sqlite:///{tmp_path}/views.db",
        "CQRSKIT_BROKER_URL": "memory://",
    }


@pytest.fixture
def redis_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    namespace = f"verify-{uuid.uuid4().hex[:8]}"
    yield {
        "CQRSKIT_EVENT_STORE_URL": f"sqlite:///{tmp_path}/events.db",
        "CQRSKIT_READ_STORE_URL": f"{require(REDIS_URL)}?namespace={namespace}",
        "CQRSKIT_BROKER_URL": "memory://",
    }

    async def purge() -> None:
        store = await RedisReadStore.open(REDIS_URL, namespace=namespace)
        await store.purge()
        await store.close()

    asyncio.run(purge())


def shop_with_views(env: dict[str, str]) -> None:
    """The demo catalog appended through the command path, then its views built."""

    async def load() -> None:
        store = await SqliteEventStore.open(
            env["CQRSKIT_EVENT_STORE_URL"].removeprefix("sqlite:///")
        )
        try:
            await load_demo_data(command_side(SHOP, store).commands)
        finally:
            await store.close()

    asyncio.run(load())
    rebuilt = cqrskit(env, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output


def test_clean_views_verify_clean_and_a_tampered_sqlite_doc_is_named(
    sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    shop_with_views(sqlite_env)
    clean = cqrskit(sqlite_env, "verify")
    assert clean.exit_code == 0, clean.output
    assert "catalog, carts, orders: clean" in clean.output
    assert "events/s" in clean.output

    with sqlite3.connect(tmp_path / "views.db") as db:
        (raw,) = db.execute(
            "SELECT value FROM docs WHERE key LIKE 'product:%'"
        ).fetchone()
        key = db.execute("SELECT key FROM docs WHERE key LIKE 'product:%'").fetchone()[
            0
        ]
        doc = orjson.loads(raw)
        doc["available"] += 1000
        db.execute("UPDATE docs SET value = ? WHERE key = ?", (orjson.dumps(doc), key))

    tampered = cqrskit(sqlite_env, "verify", "catalog")
    assert tampered.exit_code == 1, tampered.output
    assert f"doc {key}" in tampered.output
    assert "catalog: 1 differences" in tampered.output


def test_a_tampered_redis_doc_and_a_missing_index_entry_are_named(
    redis_env: dict[str, str],
) -> None:
    shop_with_views(redis_env)
    assert cqrskit(redis_env, "verify").exit_code == 0
    namespace = redis_env["CQRSKIT_READ_STORE_URL"].split("namespace=")[1]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = sorted(client.scan_iter(match=f"{namespace}:d:product:*"))
        client.set(keys[0], b'{"tampered": true}')
        entries = client.hkeys(f"{namespace}:i:catalog:e")
        client.hdel(f"{namespace}:i:catalog:e", entries[0])
    finally:
        client.close()

    tampered = cqrskit(redis_env, "verify")
    assert tampered.exit_code == 1, tampered.output
    assert f"doc {keys[0].decode().split(':d:')[1]}" in tampered.output
    assert "tampered" in tampered.output


def test_an_unknown_projection_is_a_usage_error(sqlite_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["verify", "nosuch"], env=sqlite_env)
    assert result.exit_code == 2
    assert "there are: catalog, carts, orders" in result.output
