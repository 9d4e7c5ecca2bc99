"""`cqrskit dlq` from the command line, on SQLite stores: a stream parked by a
projector is listed, retried (and fails again: exit 1), skipped for good."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from cqrskit.adapters.sqlite import SqliteEventStore, SqliteReadStore
from cqrskit.core.messages import Metadata, NewEvent, StreamAppend
from cqrskit.core.projection import ProjectionRunner
from cqrskit.entrypoints.cli import main
from cqrskit.runtime.bootstrap import command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.demo import load_demo_data
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.views import shop_projections


def cqrskit(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CQRSKIT_EVENT_STORE_URL": f"sqlite:///{tmp_path}/events.db",
        "CQRSKIT_READ_STORE_URL": f"sqlite:///{tmp_path}/views.db",
        "CQRSKIT_BROKER_URL": "memory://",
    }


async def a_poisoned_shop(tmp_path: Path) -> None:
    """The demo catalog and an event no projection can read on `product-MUG-01`;
    a projector that parks after two failures applies it all."""
    events = await SqliteEventStore.open(tmp_path / "events.db")
    views = await SqliteReadStore.open(tmp_path / "views.db")
    try:
        side = command_side(SHOP, events)
        await load_demo_data(side.commands)
        bogus = StreamAppend("product-MUG-01", 1, [NewEvent("Bogus", {"sku": 1})])
        await events.append([bogus], metadata=Metadata())
        runner = ProjectionRunner(
            shop_projections(shop_codec()), views, events, max_failures=2
        )
        log = await events.read_all(0, 10_000)
        with pytest.raises(Exception, match="Bogus"):
            await runner.handle(0, log)
        await runner.handle(0, log)  # the second failure parks product-MUG-01
    finally:
        await views.close()
        await events.close()


def test_a_parked_stream_is_listed_retried_and_skipped(
    env: dict[str, str], tmp_path: Path
) -> None:
    asyncio.run(a_poisoned_shop(tmp_path))

    listed = cqrskit(env, "dlq", "list")
    assert listed.exit_code == 0, listed.output
    assert "catalog  product-MUG-01  v2 (Bogus" in listed.output
    assert "2 attempts" in listed.output
    assert "1 parked" in listed.output
    as_json = orjson.loads(cqrskit(env, "dlq", "list", "--json").output)
    assert [(r["projection"], r["stream_id"]) for r in as_json] == [
        ("catalog", "product-MUG-01")
    ]

    again = cqrskit(env, "dlq", "retry", "product-MUG-01")
    assert again.exit_code == 1
    assert "failed again at v2 (3 attempts)" in again.output

    skipped = cqrskit(env, "dlq", "skip", "product-MUG-01", "--projection", "catalog")
    assert skipped.exit_code == 0, skipped.output
    assert "0 parked" in cqrskit(env, "dlq", "list").output
    kept = cqrskit(env, "dlq", "list", "--skipped")
    assert "catalog  product-MUG-01  v2 (Bogus" in kept.output

    missing = cqrskit(env, "dlq", "retry", "product-MUG-01")
    assert missing.exit_code == 1
    assert "product-MUG-01 is not parked" in missing.output


def test_an_unknown_projection_is_a_usage_error(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["dlq", "list", "--projection", "x"], env=env)
    assert result.exit_code == 2


def test_a_skip_holds_through_verify_and_rebuild(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A fresh fold passes over a skipped event as the live projection did: the
    views verify clean, and a rebuild does not park the stream again."""
    asyncio.run(a_poisoned_shop(tmp_path))
    skipped = cqrskit(env, "dlq", "skip", "product-MUG-01", "--projection", "catalog")
    assert skipped.exit_code == 0, skipped.output

    verified = cqrskit(env, "verify")
    assert verified.exit_code == 0, verified.output
    rebuilt = cqrskit(env, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "0 parked" in cqrskit(env, "dlq", "list").output
    assert "product-MUG-01" in cqrskit(env, "dlq", "list", "--skipped").output
    assert cqrskit(env, "verify").exit_code == 0
