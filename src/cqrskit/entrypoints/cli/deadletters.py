"""`cqrskit dlq`: the streams a projection parked after an event kept
failing, listed, retried or skipped."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from cqrskit.entrypoints.cli.options import Named, app_option, data_dir_option
from cqrskit.runtime.adapters import UnsupportedUrl
from cqrskit.runtime.settings import Settings


@click.group()
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
