"""The `cqrskit` command line."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import click
from fastapi import FastAPI

from cqrskit.adapters.pyjwt import mint
from cqrskit.core.application import Application
from cqrskit.core.auth import ADMIN, CUSTOMER, TokenVerifier
from cqrskit.core.errors import Misconfigured
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.metrics import CountersOf
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.entrypoints.http.traced import instrumented
from cqrskit.entrypoints.status import status_command
from cqrskit.runtime import eventloop, logs, tracing
from cqrskit.runtime.adapters import UnsupportedUrl, token_verifier
from cqrskit.runtime.applications import ApplicationNotFound, load_application
from cqrskit.runtime.embedded import System, borrowed, running_system
from cqrskit.runtime.redaction import masked
from cqrskit.runtime.servers import PortInUse, Servers, ensure_free
from cqrskit.runtime.settings import (
    DEFAULT_APP,
    SERVER_KEY_FILE,
    Settings,
    local_secret,
)

LEVEL = click.Choice(logs.LEVELS, case_sensitive=False)
F = Callable[..., Any]
T = TypeVar("T")


def data_dir_option(
    help: str = "Where the embedded stores and local secrets live.",
) -> Callable[[F], F]:
    return click.option(
        "--data-dir",
        default="./.cqrskit",
        type=click.Path(),
        envvar="CQRSKIT_DATA_DIR",
        help=help,
    )


class Named(NamedTuple):
    """An application and the name it was loaded by (handed to processes)."""

    spec: str
    app: Application[Any, Any]


class _ApplicationName(click.ParamType):  # type: ignore[type-arg]
    name = "package.module:attr"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Named:
        if isinstance(value, Named):
            return value
        try:
            return Named(str(value), load_application(str(value)))
        except ApplicationNotFound as e:
            self.fail(str(e), param, ctx)


app_option = click.option(
    "--app",
    "named",
    default=DEFAULT_APP,
    type=_ApplicationName(),
    envvar="CQRSKIT_APP",
    help="The application to run: its object, imported with the current "
    "directory on the path.",
)


access_log_option = click.option(
    "--access-log-level",
    default="info",
    type=LEVEL,
    help="Level of the access log alone (info: a line per request).",
)


_ROLES = {"serve": "service", "project": "projector"}
"""How a command's process names itself in log lines, where not by its name."""
_TRACED = {"run": "run", "relay": "relay", "project": "projector"}
"""The commands whose work is traced when the OTEL_* settings say so, and the
role each names itself by (service `cqrskit-<role>`)."""


class _Cli(click.Group):
    """A setting that cannot be read (`CQRSKIT_PARTITIONS=eight`) is a usage
    error, exit 2 with its message, wherever a command reads the settings."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Misconfigured as e:
            raise click.UsageError(e.detail, ctx) from e


@click.group(
    cls=_Cli,
    context_settings={
        "auto_envvar_prefix": "CQRSKIT",
        "show_default": True,
        "help_option_names": ["-h", "--help"],
    },
)
@click.version_option(package_name="cqrskit", prog_name="cqrskit")
@click.option("--log-level", default="info", type=LEVEL, show_envvar=True)
@click.pass_context
def main(ctx: click.Context, log_level: str) -> None:
    """cqrskit: CQRS and event sourcing, with a reference shop.

    Every option can also be set from the environment: the variable shown
    in its --help (CQRSKIT_<COMMAND>_<OPTION>, or a shared name such as
    CQRSKIT_DATA_DIR and CQRSKIT_LOG_LEVEL)."""
    ctx.obj = log_level.lower()
    command = ctx.invoked_subcommand or "cqrskit"
    logs.configure(ctx.obj, "warning", role=_ROLES.get(command, command))
    if command in _TRACED:  # `serve` turns them on in each worker (factories)
        tracing.configure(_TRACED[command])


@main.command()
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
                click.echo(_demo_tokens(settings, settings.auth_secret))
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


DEMO_TTL = 24 * 3600.0


def _demo_tokens(settings: Settings, secret: str) -> str:
    def token(subject: str, roles: list[str]) -> str:
        return mint(
            secret,
            subject,
            roles,
            DEMO_TTL,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )

    return "\n".join(
        [
            "Bearer tokens for a try (24 h; `cqrskit token` makes more):",
            f"  customer alice   {token('alice', [CUSTOMER])}",
            f"  admin            {token('ops', [ADMIN])}",
        ]
    )


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> float:
    """`90`, `90s`, `15m`, `1h`, `2d` in seconds."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    if not number.isdigit() or int(number) == 0:
        raise click.BadParameter(f"{text!r} is not a duration such as 90s, 15m, 1h")
    return float(int(number) * _UNITS[unit])


@main.command()
@click.option("--customer", required=True, help="The token's subject (`sub`).")
@click.option("--admin", is_flag=True, help="Add the admin role.")
@click.option("--ttl", default="1h", help="e.g. 90s, 15m, 1h, 2d")
@data_dir_option("Where `cqrskit run` keeps its secret (without CQRSKIT_AUTH_SECRET).")
def token(customer: str, admin: bool, ttl: str, data_dir: str) -> None:
    """Print a bearer token signed with the configured (or local) secret."""
    settings = Settings.from_env(data_dir=Path(data_dir))
    if settings.auth_jwks_url and not settings.auth_secret:
        raise click.ClickException(
            "CQRSKIT_AUTH_JWKS_URL is set: tokens come from the identity provider"
        )
    secret = settings.auth_secret or local_secret(Path(data_dir))
    roles = [CUSTOMER, ADMIN] if admin else [CUSTOMER]
    click.echo(
        mint(
            secret,
            customer,
            roles,
            _seconds(ttl),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
    )


@main.command("demo-data")
@data_dir_option()
@app_option
def demo_data(data_dir: str, named: Named) -> None:
    """Load the application's demo data (the read side catches up on the
    next start)."""
    added = _load_demo(named, Settings.from_env(data_dir=Path(data_dir)))
    click.echo(f"demo data loaded ({added} new items)")


def _load_demo(named: Named, settings: Settings) -> int:
    from cqrskit.runtime.demo import NoDemoData, load_demo_catalog

    try:
        added: int = _run_worker(load_demo_catalog(named.app, settings))
    except NoDemoData as e:
        raise click.UsageError(str(e)) from e
    return added


@main.command()
@click.argument("projection", required=False)
@click.option("--page", default=5000, help="Events read at a time.")
@data_dir_option()
@app_option
def rebuild(projection: str | None, page: int, data_dir: str, named: Named) -> None:
    """Rebuild read models (all, or PROJECTION) from the event store, beside
    the live ones, then swap them in atomically."""
    from cqrskit.core.pause import PauseBroken
    from cqrskit.runtime.rebuilding import UnknownProjection, rebuild_views

    try:
        _over_the_log(rebuild_views, named, projection, page, data_dir)
    except UnknownProjection as e:
        raise click.UsageError(str(e)) from e
    except (UnsupportedUrl, PauseBroken) as e:
        raise click.ClickException(str(e)) from e


@main.command()
@click.argument("projection", required=False)
@click.option("--page", default=1000, help="Events read at a time.")
@data_dir_option()
@app_option
def verify(projection: str | None, page: int, data_dir: str, named: Named) -> None:
    """Compare live read models (all, or PROJECTION) with a fresh fold of the
    event store. Exit 0 when they agree, 1 on any difference, 2 on a usage
    error, 3 if a projector broke the pause (verify again)."""
    from cqrskit.core.pause import PauseBroken
    from cqrskit.runtime.rebuilding import UnknownProjection
    from cqrskit.runtime.verifying import verify_views

    try:
        found = _over_the_log(verify_views, named, projection, page, data_dir)
    except UnknownProjection as e:
        raise click.UsageError(str(e)) from e
    except UnsupportedUrl as e:
        raise click.ClickException(str(e)) from e
    except PauseBroken as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(3)
    sys.exit(1 if found else 0)


def _over_the_log(
    work: Callable[..., Coroutine[Any, Any, T]],
    named: Named,
    projection: str | None,
    page: int,
    data_dir: str,
) -> T:
    """Run a pass over the log (rebuild, verify), its progress redrawn in
    place on a terminal."""
    settings = Settings.from_env(data_dir=Path(data_dir))
    live = sys.stdout.isatty()
    return eventloop.run(
        work(named.app, settings, projection, page=page, out=click.echo, live=live)
    )


@main.group()
def dlq() -> None:
    """Streams a projection parked after an event kept failing."""


@dlq.command("list")
@click.option("--projection", help="Only this projection.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.option("--skipped", is_flag=True, help="The events skipped, not the parked.")
@data_dir_option()
@app_option
def dlq_list(
    projection: str | None, as_json: bool, skipped: bool, data_dir: str, named: Named
) -> None:
    """List parked streams (or skipped events)."""
    from cqrskit.runtime.deadletters import list_dead_letters

    settings = Settings.from_env(data_dir=Path(data_dir))
    _dlq_run(
        lambda: list_dead_letters(
            named.app,
            settings,
            projection,
            as_json=as_json,
            show_skipped=skipped,
            out=click.echo,
        )
    )


@dlq.command("retry")
@click.argument("stream")
@click.option("--projection", help="Only this projection.")
@data_dir_option()
@app_option
def dlq_retry(stream: str, projection: str | None, data_dir: str, named: Named) -> None:
    """Apply a parked stream again from its checkpoint; exit 1 if it fails again."""
    _take_up(named, stream, projection, data_dir, skip=False)


@dlq.command("skip")
@click.argument("stream")
@click.option("--projection", help="Only this projection.")
@data_dir_option()
@app_option
def dlq_skip(stream: str, projection: str | None, data_dir: str, named: Named) -> None:
    """Skip a parked stream's poison event (recorded for good), apply the rest."""
    _take_up(named, stream, projection, data_dir, skip=True)


def _take_up(
    named: Named, stream: str, projection: str | None, data_dir: str, *, skip: bool
) -> None:
    from cqrskit.runtime.deadletters import take_up_stream

    settings = Settings.from_env(data_dir=Path(data_dir))
    ok = _dlq_run(
        lambda: take_up_stream(
            named.app, settings, stream, projection, skip=skip, out=click.echo
        )
    )
    sys.exit(0 if ok else 1)


def _dlq_run(work: Any) -> Any:
    from cqrskit.core.errors import ConcurrencyError
    from cqrskit.runtime.rebuilding import UnknownProjection

    try:
        return asyncio.run(work())
    except UnknownProjection as e:
        raise click.UsageError(str(e)) from e
    except (UnsupportedUrl, ConcurrencyError) as e:
        raise click.ClickException(str(e)) from e


@main.command()
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


@main.command()
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


@main.group()
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


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8002, help="For /healthz, /metrics.")
@app_option
def relay(host: str, port: int, named: Named) -> None:
    """Publish the committed log to the broker (one active, others on standby).
    The relay moves stored events as they are: of the application it only
    checks that it loads."""
    from cqrskit.entrypoints.workers import run_relay

    _run_worker(run_relay(Settings.from_env(), host, port))


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8003, help="For /healthz, /metrics.")
@click.option(
    "--gap-fill/--no-gap-fill",
    default=True,
    help="Fill version gaps from the event store (needs CQRSKIT_EVENT_STORE_URL).",
)
@click.option(
    "--name",
    default=None,
    help="How this projector shows in logs (default: host-pid). Projectors "
    "share the partitions out among those alive by themselves: start or stop "
    "any number, with no numbering.",
)
@app_option
def project(
    host: str, port: int, gap_fill: bool, name: str | None, named: Named
) -> None:
    """Apply events from the broker to the read models (this projector's share
    of the partitions, standing by for the rest)."""
    from cqrskit.entrypoints.workers import run_projector

    settings = Settings.from_env()
    _run_worker(
        run_projector(named.app, settings, host, port, gap_fill=gap_fill, name=name)
    )


def _run_worker(work: Any) -> Any:
    from cqrskit.entrypoints.workers import NeedsDurableBroker

    try:
        return eventloop.run(work)
    except (UnsupportedUrl, NeedsDurableBroker) as e:
        raise click.ClickException(str(e)) from e
    except Misconfigured as e:
        raise click.ClickException(e.detail) from e


@main.command()
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
        added = _load_demo(named, settings)
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


main.add_command(status_command(app_option, data_dir_option()))


def _show_envvars(command: click.Command) -> None:
    """Every option's variable in --help, its own or the automatic one."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in {"help", "version"}:
            param.show_envvar = True
    for sub in getattr(command, "commands", {}).values():
        _show_envvars(sub)


_show_envvars(main)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
