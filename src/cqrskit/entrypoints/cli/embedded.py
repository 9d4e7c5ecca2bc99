"""`cqrskit run`: the whole system in one process, its command and query
services, the console and the workers on one event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click
from fastapi import FastAPI

from cqrskit.core.application import Application
from cqrskit.core.auth import TokenVerifier
from cqrskit.core.errors import Misconfigured
from cqrskit.entrypoints.cli.options import (
    Named,
    access_log_option,
    app_option,
    data_dir_option,
)
from cqrskit.entrypoints.cli.tokens import demo_tokens
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.metrics import CountersOf
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.entrypoints.http.traced import instrumented
from cqrskit.runtime import eventloop, logs
from cqrskit.runtime.adapters import UnsupportedUrl, token_verifier
from cqrskit.runtime.embedded import System, borrowed, running_system
from cqrskit.runtime.redaction import masked
from cqrskit.runtime.servers import PortInUse, Servers, ensure_free
from cqrskit.runtime.settings import SERVER_KEY_FILE, Settings, local_secret


@click.command()
@click.option("--host", default="127.0.0.1")
@click.option("--command-port", default=8000)
@click.option("--query-port", default=8001)
@data_dir_option()
@click.option(
    "--demo",
    is_flag=True,
    help="Load a small catalog with stock first; print a customer and an admin token.",
)
@access_log_option
@app_option
@click.pass_obj
def run(
    log_level: str,
    named: Named,
    host: str,
    command_port: int,
    query_port: int,
    data_dir: str,
    demo: bool,
    access_log_level: str,
) -> None:
    """Run the whole system in one process (embedded stores by default).

    Without CQRSKIT_AUTH_SECRET or CQRSKIT_AUTH_JWKS_URL, bearer tokens are
    signed with a secret kept in the data directory (created, mode 0600)."""
    logs.configure(log_level, access_log_level, role="run")
    settings = Settings.from_env(data_dir=Path(data_dir))
    if not settings.has_auth_key:
        settings = settings.with_secret(local_secret(Path(data_dir)))
    if not (settings.server_key or settings.auth_secret):  # beside a JWKS
        settings = settings.with_server_key(
            local_secret(Path(data_dir), SERVER_KEY_FILE)
        )
    try:
        ensure_free(host, command_port, "--command-port")
        ensure_free(host, query_port, "--query-port")
        eventloop.run(_run(named.app, settings, host, command_port, query_port, demo))
    except (UnsupportedUrl, PortInUse) as e:
        raise click.ClickException(str(e)) from e
    except Misconfigured as e:
        raise click.ClickException(e.detail) from e


async def _run(
    app: Application[Any, Any],
    settings: Settings,
    host: str,
    cport: int,
    qport: int,
    demo: bool,
) -> None:
    from cqrskit.runtime.lag import LagMetrics

    verifier, server_key = token_verifier(settings), settings.hmac_key()
    async with running_system(app, settings) as system:
        lags = LagMetrics(
            lambda: system.event_store,
            relay=lambda: system.relay,
            views=lambda: system.read_store,
            projections=system.projector.projections,
            partitions=settings.partitions,
        )
        lagging = asyncio.create_task(lags.watch())
        if demo:
            if app.demo is None:
                raise click.UsageError(f"the application {app.name!r} has no demo")
            added = await app.demo(system.command.commands)
            click.echo(f"demo data loaded ({added} new items)")
        command_app = create_command_app(
            app,
            lambda: borrowed(system.command),
            verifier,
            server_key,
            rate_limit=settings.rate_limit,
            collectors=[lags, system.stages, *_worker_counters(system)],
        )
        _mount_console(command_app, app, settings, system, verifier)
        query_app = create_query_app(
            app, lambda: borrowed(system.query), verifier, server_key
        )
        instrumented(command_app)
        instrumented(query_app)
        servers = Servers(
            [(command_app, host, cport), (query_app, host, qport)], log_level=None
        )
        serving = asyncio.create_task(servers.serve())
        if await servers.started():
            click.echo(_banner(settings, host, cport, qport))
            if demo and settings.auth_secret:
                click.echo(demo_tokens(settings, settings.auth_secret))
        await serving
        lagging.cancel()
        click.echo("cqrskit stopped")


def _mount_console(
    command_app: FastAPI,
    app: Application[Any, Any],
    settings: Settings,
    system: System,
    verifier: TokenVerifier,
) -> None:
    """The console on the command service's port, at /console/, on the
    system's stores (its own role, `serve console`, elsewhere)."""
    from cqrskit.entrypoints.http.console import create_console_app
    from cqrskit.runtime.console import ConsoleSide

    side = ConsoleSide(app, settings, system.event_store, system.read_store)
    command_app.mount("/console", create_console_app(lambda: side, verifier))


def _worker_counters(system: System) -> list[CountersOf]:
    """The one-process mode's relay and projector counters, as their own
    processes serve them."""
    from cqrskit.entrypoints.workers import projector_counters, relay_counters

    return [
        relay_counters(lambda: system.relay),
        projector_counters(lambda: system.projector.runner),
    ]


def _banner(settings: Settings, host: str, cport: int, qport: int) -> str:
    return "\n".join(
        [
            "cqrskit is running",
            f"  command service  http://{host}:{cport}   (docs: http://{host}:{cport}/docs)",
            f"  query service    http://{host}:{qport}   (docs: http://{host}:{qport}/docs)",
            f"  console          http://{host}:{cport}/console/   (an admin token)",
            f"  event store      {masked(settings.event_store_url)}",
            f"  read store       {masked(settings.read_store_url)}",
            f"  broker           {masked(settings.broker_url)}",
            "Press Ctrl-C to stop.",
        ]
    )
