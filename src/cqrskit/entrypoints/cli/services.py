"""The HTTP services on the real stores: `cqrskit serve command|query|console`,
one service each, and `cqrskit up`, a local topology of one process per role."""

from __future__ import annotations

import os
import sys

import click

from cqrskit.core.errors import Misconfigured
from cqrskit.entrypoints.cli.demo import load_demo
from cqrskit.entrypoints.cli.options import Named, access_log_option, app_option
from cqrskit.runtime import eventloop, logs
from cqrskit.runtime.adapters import token_verifier
from cqrskit.runtime.settings import Settings


@click.group()
def serve() -> None:
    """Serve one HTTP service on its own (configured by CQRSKIT_* URLs)."""


def _serve(
    named: Named, factory: str, host: str, port: int, workers: int, access_level: str
) -> None:
    """uvicorn applies `log_config` in every worker process it starts; with
    `log_level=None` it leaves the levels that config sets alone. The
    factories, once per worker, load the application CQRSKIT_APP names."""
    import uvicorn

    os.environ["CQRSKIT_APP"] = named.spec
    Settings.from_env()  # a setting that cannot be read is refused here, once
    uvicorn.run(
        f"cqrskit.entrypoints.http.factories:{factory}",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logs.log_config(
            click.get_current_context().obj, access_level, role=factory.split("_")[0]
        ),
        log_level=None,
        http="cqrskit.runtime.nodelay:CqrskitHttpProtocol",
        loop=eventloop.uvicorn_loop(),
    )


@serve.command("command")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000)
@click.option("--workers", default=1)
@access_log_option
@app_option
def serve_command(
    host: str, port: int, workers: int, access_log_level: str, named: Named
) -> None:
    """The command service; it is given only CQRSKIT_EVENT_STORE_URL."""
    _serve(named, "command_app", host, port, workers, access_log_level)


@serve.command("query")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8001)
@click.option("--workers", default=1)
@access_log_option
@app_option
def serve_query(
    host: str, port: int, workers: int, access_log_level: str, named: Named
) -> None:
    """The query service; it is given only CQRSKIT_READ_STORE_URL."""
    _serve(named, "query_app", host, port, workers, access_log_level)


@serve.command("console")
@click.option("--host", default="127.0.0.1")
@click.option(
    "--port",
    default=8006,
    help="The port `cqrskit up` gives it with its defaults; the relay's is 8002.",
)
@access_log_option
@app_option
def serve_console(host: str, port: int, access_log_level: str, named: Named) -> None:
    """The operator's web console at /console/ (admin tokens only); it is
    given CQRSKIT_EVENT_STORE_URL and CQRSKIT_READ_STORE_URL."""
    _serve(named, "console_app", host, port, 1, access_log_level)


@click.command()
@click.option("--host", default="127.0.0.1")
@click.option("--command-port", default=8000)
@click.option("--query-port", default=8001)
@click.option("--query-workers", default=2)
@click.option("--projectors", default=2)
@click.option(
    "--standby/--no-standby",
    default=True,
    help="Start a second relay as a hot standby.",
)
@click.option(
    "--first-worker-port",
    default=8002,
    help="Relays, projectors (/metrics) and the console take ports from here up.",
)
@click.option("--demo", is_flag=True, help="Load the demo catalog with stock first.")
@app_option
def up(
    named: Named,
    host: str,
    command_port: int,
    query_port: int,
    query_workers: int,
    projectors: int,
    standby: bool,
    first_worker_port: int,
    demo: bool,
) -> None:
    """Start a local topology on the real services, one process per role."""
    from cqrskit.runtime import topology

    env = topology.environment()
    env["CQRSKIT_APP"] = named.spec  # every process it starts runs the same
    settings = Settings.from_env(env)
    try:
        token_verifier(settings)  # refuses a missing or short key
        settings.hmac_key()
    except Misconfigured as e:
        raise click.ClickException(f"cqrskit up: {e.detail}") from e
    if env["CQRSKIT_EVENT_STORE_URL"].startswith(("postgresql://", "postgres://")):
        try:
            topology.ensure_database(env["CQRSKIT_EVENT_STORE_URL"])
        except Misconfigured as e:
            raise click.ClickException(str(e)) from e
    if demo:
        added = load_demo(named, settings)
        click.echo(f"demo data loaded ({added} new items)")
    layout = topology.Layout(
        host,
        command_port,
        query_port,
        query_workers,
        projectors,
        standby,
        first_worker_port,
    )
    started = topology.roles(env, layout)
    for role in started:
        role.start()
    try:
        failed = topology.wait_healthy(started)
        if failed:  # they heal by themselves: say so and go on
            names = ", ".join(r.name for r in failed)
            click.echo(f"not healthy yet: {names}")
        click.echo("cqrskit is up")
        for role in started:
            pid = role.process.pid if role.process else "-"
            url = f"http://{host}:{role.port}{role.path}"
            click.echo(f"  {role.name:<28} {url}  pid {pid}")
        for key in topology.LOCAL_SERVICES:
            click.echo(f"  {key} = {topology.masked(env[key])}")
        click.echo("Press Ctrl-C to stop.")
        code = topology.supervise(started)
    finally:
        topology.stop_all(started)
    click.echo("cqrskit stopped")
    sys.exit(code)
