"""`cqrskit plan` on round figures, checked against the arithmetic by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from cqrskit.core.errors import Invalid, Misconfigured
from cqrskit.entrypoints.cli import main
from cqrskit.runtime.planning import Figures, Target, plan
from cqrskit.runtime.planning.model import SystemPlan

ROUND = {
    "command_writes_per_s": 100,
    "query_reads_per_s": 1_000,
    "relay_messages_per_s": 1_000,
    "projector_messages_per_s": 1_000,
    "events_per_message": 10,
    "postgres_commits_per_s": 1_000,
    "postgres_rows_per_s": 20_000,
    "postgres_reads_per_s": 10_000,
    "postgres_max_connections": 100,
    "db_pool_per_process": 10,
    "monolith_reads_per_s": 1_000,
    "monolith_writes_per_s": 100,
    "wal_bytes_per_stored_byte": 2,
    "redis_bytes_per_view_byte": 1.5,
}
FIGURES = Figures.from_table({k: {"value": v} for k, v in ROUND.items()})
TARGET = Target(
    reads_per_s=7_000,
    writes_per_s=140,
    events_per_command=2,
    event_bytes=500,
    view_bytes=1_000,
    views_per_write=0.5,
    view_retention_days=10,
    wal_retention_days=7,
    peak_factor=2,
    zones=3,
    headroom=0.7,
)


def value(system: SystemPlan, name: str) -> float:
    steps = [s for steps in system.sections.values() for s in steps if s.name == name]
    assert len(steps) == 1, name
    return steps[0].value


def test_the_cqrs_roles_are_sized_and_spread_over_zones() -> None:
    cqrs = plan(TARGET, FIGURES).cqrs

    assert value(cqrs, "command processes needed") == 2  # 140 / (100 x 0.7)
    assert value(cqrs, "command instances") == 3  # 1 per zone survives a zone
    assert value(cqrs, "query processes needed") == 10  # 7,000 / (1,000 x 0.7)
    assert value(cqrs, "query instances") == 15  # ceil(10 / 2) x 3
    assert value(cqrs, "relay instances") == 3  # one leads, two stand by
    assert value(cqrs, "projector processes needed") == 1  # 280 / (10,000 x 0.7)
    assert value(cqrs, "partitions (quorum queues)") == 8
    assert value(cqrs, "messages/s at peak") == 28  # 280 events / 10


def test_the_cqrs_stores_grow_as_the_arithmetic_says() -> None:
    cqrs = plan(TARGET, FIGURES).cqrs

    assert value(cqrs, "primary busy at peak") == pytest.approx(0.14)  # 140/1,000
    day = 140 * 2 / 2 * 86_400 * 500  # average events/s x a day x bytes
    assert value(cqrs, "storage growth per day") == pytest.approx(day)
    assert value(cqrs, "storage growth per year") == pytest.approx(day * 365)
    assert value(cqrs, "WAL kept for point-in-time recovery") == pytest.approx(
        day * 2 * 7
    )
    views = 70 * 0.5 * 86_400 * 10  # average writes x new views x a day x days
    assert value(cqrs, "memory") == pytest.approx(views * 1_000 * 1.5)
    assert value(cqrs, "connections") == 3 * 10 + 3 * 2  # commands, relays


def test_the_monolith_carries_reads_and_writes_on_one_database() -> None:
    monolith = plan(TARGET, FIGURES).monolith

    assert value(monolith, "worker time at peak") == pytest.approx(8.4)  # 7 + 1.4
    assert value(monolith, "monolith processes needed") == 12  # ceil(8.4 / 0.7)
    assert value(monolith, "monolith instances") == 18
    busy = 7_000 / 10_000 + 140 / 1_000
    assert value(monolith, "primary busy at peak") == pytest.approx(busy)
    first = monolith.runs_out_first
    assert first.resource.startswith("PostgreSQL primary")
    assert first.utilisation == pytest.approx(busy)


def test_what_runs_out_first_is_the_busiest_thing_processes_cannot_scale() -> None:
    worked = plan(TARGET, FIGURES)
    assert worked.cqrs.runs_out_first.resource == "PostgreSQL primary (appends)"

    busy_relay = Target(reads_per_s=10, writes_per_s=600, events_per_command=20)
    relay = plan(busy_relay, FIGURES).cqrs.runs_out_first
    assert relay.resource == "relay (one active)"
    assert relay.utilisation == pytest.approx(1.2)  # 12,000 events / 10,000


def test_one_zone_plans_one_spare_instance() -> None:
    one_zone = Target(reads_per_s=7_000, writes_per_s=140, zones=1)
    cqrs = plan(one_zone, FIGURES).cqrs
    assert value(cqrs, "query instances") == 11
    assert value(cqrs, "relay instances") == 2


@pytest.mark.parametrize(
    "wrong", [{"zones": 0}, {"headroom": 1.5}, {"peak_factor": 0.5}]
)
def test_an_impossible_target_is_refused(wrong: dict[str, Any]) -> None:
    with pytest.raises(Invalid):
        Target(**({"reads_per_s": 1, "writes_per_s": 1} | wrong))


def test_a_figures_file_overrides_the_defaults_it_names(tmp_path: Path) -> None:
    own = tmp_path / "figures.toml"
    own.write_text('[query_reads_per_s]\nvalue = 5000\nsource = "our rack"\n')

    figures = Figures.load(own)

    assert figures.query_reads_per_s == 5_000
    assert figures.sources["query_reads_per_s"] == "our rack"
    assert figures.command_writes_per_s == Figures.load().command_writes_per_s


@pytest.mark.parametrize(
    "text",
    ["[query_reeds_per_s]\nvalue = 1\n", "[query_reads_per_s]\nvalue = -1\n", "[["],
)
def test_a_wrong_figures_file_is_refused(tmp_path: Path, text: str) -> None:
    own = tmp_path / "figures.toml"
    own.write_text(text)
    with pytest.raises(Misconfigured):
        Figures.load(own)


def test_every_default_figure_says_where_it_comes_from() -> None:
    assert all(Figures.load().sources.values())


def test_the_command_prints_the_plan_and_its_json() -> None:
    runner = CliRunner()
    args = ["plan", "--reads-per-s", "20000", "--writes-per-s", "200"]

    text = runner.invoke(main, args)
    as_json = runner.invoke(main, [*args, "--json"])
    refused = runner.invoke(main, [*args, "--zones", "0"])

    assert text.exit_code == 0, text.output
    assert "runs out first: PostgreSQL primary (appends)" in text.output
    assert "query processes needed: 16" in text.output  # 20,000 / (1,800 x 0.7)
    document = orjson.loads(as_json.output)
    assert document["target"]["reads_per_s"] == 20_000
    assert set(document) == {"target", "cqrs", "monolith", "figures"}
    assert document["monolith"]["runs_out_first"]["growth"] > 0
    assert refused.exit_code != 0 and "zones" in refused.output
