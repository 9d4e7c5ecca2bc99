"""`cqrskit status`: the operators' view of the relay, the projectors and the
lag of every projection (the logic lives in runtime/status.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
import orjson

from cqrskit.core.errors import StoreUnavailable
from cqrskit.entrypoints.cli.options import Named, app_option, data_dir_option
from cqrskit.runtime.adapters import UnsupportedUrl
from cqrskit.runtime.settings import Settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@data_dir_option()
@app_option
def status(as_json: bool, data_dir: str, named: Named) -> None:
    """Where the relay and every projection stand: the log's head, the
    relay leader and its lag, the live projectors and their partitions,
    each projection's applied position, lag and parked streams."""
    from cqrskit.runtime import status as reading

    settings = Settings.from_env(data_dir=Path(data_dir))
    try:
        found = asyncio.run(reading.gather(settings, named.app.projection_list()))
    except (StoreUnavailable, UnsupportedUrl, OSError) as e:
        raise click.ClickException(f"cannot read the status: {e}") from e
    if as_json:
        click.echo(orjson.dumps(found.as_dict(), option=orjson.OPT_INDENT_2))
    else:
        click.echo(reading.render(found))
