"""Passes over the log that check or remake the read models: `cqrskit
rebuild` and `cqrskit verify`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from cqrskit.entrypoints.cli.options import Named, app_option, data_dir_option
from cqrskit.runtime import eventloop
from cqrskit.runtime.adapters import UnsupportedUrl
from cqrskit.runtime.settings import Settings

T = TypeVar("T")


@click.command()
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


@click.command()
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
