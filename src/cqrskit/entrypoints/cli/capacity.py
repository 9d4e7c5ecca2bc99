"""Capacity: `cqrskit bench` measures it from outside over HTTP, `cqrskit
plan` works out what a target needs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from cqrskit.adapters.pyjwt import mint
from cqrskit.core.auth import ADMIN
from cqrskit.core.errors import Misconfigured
from cqrskit.entrypoints.cli.options import Named, app_option
from cqrskit.runtime.settings import Settings


@click.command()
@click.option("--command-url", help="A running command service (default: start one).")
@click.option("--query-url", help="A running query service (with --command-url).")
@click.option("--seconds", default=5.0, help="Length of each phase.")
@click.option("--concurrency", default=16, help="Clients at once.")
@click.option(
    "--token",
    envvar="CQRSKIT_BENCH_TOKEN",
    help="An admin's bearer token for running services (default: minted "
    "with CQRSKIT_AUTH_SECRET).",
)
@app_option
def bench(
    command_url: str | None,
    query_url: str | None,
    seconds: float,
    concurrency: int,
    token: str | None,
    named: Named,
) -> None:
    """Measure throughput and latency from outside, over HTTP, with the
    application's workload. Services that are already running should have
    their rate limit off (CQRSKIT_RATE_LIMIT=0)."""
    import secrets

    from cqrskit.core.application import BenchTarget
    from cqrskit.runtime import bench as b

    workload = named.app.bench
    if workload is None:
        raise click.UsageError(f"the application {named.app.name!r} has no bench")

    def measure(urls: tuple[str, str], token: str) -> None:
        click.echo(
            f"bench: {concurrency} clients, {seconds:g} s a phase, {urls[0]} {urls[1]}"
        )
        click.echo(b.HEADING)  # then each phase's row as it ends
        target = BenchTarget(*urls, token, concurrency)
        asyncio.run(
            b.run_bench(workload, target, seconds, lambda p: click.echo(p.row()))
        )

    if bool(command_url) != bool(query_url):
        raise click.UsageError("--command-url and --query-url go together")
    if command_url and query_url:
        secret = Settings.from_env().auth_secret
        if token is None and secret is None:
            raise click.UsageError("give --token or set CQRSKIT_AUTH_SECRET")
        measure(
            (command_url, query_url),
            token or mint(secret or "", "bench", [ADMIN], 3600),
        )
        return
    secret = secrets.token_urlsafe(48)
    with b.embedded_system(secret, named.spec) as urls:
        measure(urls, mint(secret, "bench", [ADMIN], 3600))


@click.command()
@click.option(
    "--reads-per-s", type=click.FloatRange(min=0, min_open=True), required=True
)
@click.option(
    "--writes-per-s", type=click.FloatRange(min=0, min_open=True), required=True
)
@click.option("--events-per-command", default=2.0)
@click.option("--event-bytes", default=600.0, help="Stored, with metadata.")
@click.option("--view-bytes", default=1000.0)
@click.option("--views-per-write", default=0.2, help="New carts/orders.")
@click.option("--view-retention-days", default=90.0)
@click.option("--wal-retention-days", default=7.0)
@click.option("--peak-factor", default=3.0, help="Peak / average.")
@click.option("--zones", default=3, help="Availability zones.")
@click.option("--headroom", default=0.7, help="Share of a ceiling to use.")
@click.option(
    "--figures", type=click.Path(path_type=Path, dir_okay=False), help="TOML."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def plan(figures: Path | None, as_json: bool, **target: Any) -> None:
    """Plan capacity for a target: instances per role, PostgreSQL, Redis and
    RabbitMQ load, storage growth, for CQRS and for the CRUD monolith."""
    import orjson

    from cqrskit.core.errors import Invalid
    from cqrskit.runtime import planning

    try:
        worked = planning.plan(
            planning.Target(**target), planning.Figures.load(figures)
        )
    except (Invalid, Misconfigured) as e:
        raise click.ClickException(e.detail) from e
    if as_json:
        click.echo(orjson.dumps(worked.as_dict(), option=orjson.OPT_INDENT_2))
    else:
        click.echo(planning.render(worked))
