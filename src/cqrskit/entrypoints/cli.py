"""The `cqrskit` command line."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime.bootstrap import UnsupportedUrl
from cqrskit.runtime.embedded import borrowed, running_system
from cqrskit.runtime.servers import Servers
from cqrskit.runtime.settings import Settings
from cqrskit.shop.demo import load_demo_data


@click.group()
@click.option("--log-level", default="info", show_default=True)
def main(log_level: str) -> None:
    """cqrskit: CQRS and event sourcing, with a reference shop."""
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--command-port", default=8000, show_default=True)
@click.option("--query-port", default=8001, show_default=True)
@click.option("--data-dir", default="./.cqrskit", show_default=True, type=click.Path())
@click.option("--demo", is_flag=True, help="Load a small catalog with stock first.")
def run(
    host: str, command_port: int, query_port: int, data_dir: str, demo: bool
) -> None:
    """Run the whole system in one process (embedded stores by default)."""
    settings = Settings.from_env(data_dir=Path(data_dir))
    try:
        asyncio.run(_run(settings, host, command_port, query_port, demo))
    except UnsupportedUrl as e:
        raise click.ClickException(str(e)) from e


async def _run(
    settings: Settings, host: str, cport: int, qport: int, demo: bool
) -> None:
    async with running_system(settings) as system:
        if demo:
            added = await load_demo_data(system.command.commands)
            click.echo(f"demo catalog loaded ({added} new products)")
        command_app = create_command_app(lambda: borrowed(system.command))  # type: ignore[arg-type,return-value]
        query_app = create_query_app(lambda: borrowed(system.query))  # type: ignore[arg-type,return-value]
        servers = Servers([(command_app, host, cport), (query_app, host, qport)])
        serving = asyncio.create_task(servers.serve())
        if await servers.started():
            click.echo(_banner(settings, host, cport, qport))
        await serving
        click.echo("cqrskit stopped")


def _banner(settings: Settings, host: str, cport: int, qport: int) -> str:
    return "\n".join(
        [
            "cqrskit is running",
            f"  command service  http://{host}:{cport}   (docs: http://{host}:{cport}/docs)",
            f"  query service    http://{host}:{qport}   (docs: http://{host}:{qport}/docs)",
            f"  event store      {settings.event_store_url}",
            f"  read store       {settings.read_store_url}",
            f"  broker           {settings.broker_url}",
            "Press Ctrl-C to stop.",
        ]
    )


@main.command("demo-data")
@click.option("--data-dir", default="./.cqrskit", show_default=True, type=click.Path())
def demo_data(data_dir: str) -> None:
    """Load the demo catalog (the read side catches up on the next start)."""
    settings = Settings.from_env(data_dir=Path(data_dir))

    async def load() -> int:
        async with running_system(settings) as system:
            return await load_demo_data(system.command.commands)

    click.echo(f"demo catalog loaded ({asyncio.run(load())} new products)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
