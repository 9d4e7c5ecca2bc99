"""The worker roles, `cqrskit relay` and `cqrskit project`, and how a
command runs a worker's coroutine to its end."""

from __future__ import annotations

from typing import Any

import click

from cqrskit.core.errors import Misconfigured
from cqrskit.entrypoints.cli.options import Named, app_option
from cqrskit.runtime import eventloop
from cqrskit.runtime.adapters import UnsupportedUrl
from cqrskit.runtime.settings import Settings


@click.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8002, help="For /healthz, /metrics.")
@app_option
def relay(host: str, port: int, named: Named) -> None:
    """Publish the committed log to the broker (one active, others on standby).
    The relay moves stored events as they are: of the application it only
    checks that it loads."""
    from cqrskit.entrypoints.workers import run_relay

    run_worker(run_relay(Settings.from_env(), host, port))


@click.command()
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
    run_worker(
        run_projector(named.app, settings, host, port, gap_fill=gap_fill, name=name)
    )


def run_worker(work: Any) -> Any:
    from cqrskit.entrypoints.workers import NeedsDurableBroker

    try:
        return eventloop.run(work)
    except (UnsupportedUrl, NeedsDurableBroker) as e:
        raise click.ClickException(str(e)) from e
    except Misconfigured as e:
        raise click.ClickException(e.detail) from e
