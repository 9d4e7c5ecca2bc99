"""`cqrskit demo-data`: the application's demo data, loaded into the event
store (also by `cqrskit up --demo`)."""

from __future__ import annotations

from pathlib import Path

import click

from cqrskit.entrypoints.cli.options import Named, app_option, data_dir_option
from cqrskit.entrypoints.cli.workers import run_worker
from cqrskit.runtime.settings import Settings


@click.command("demo-data")
@data_dir_option()
@app_option
def demo_data(data_dir: str, named: Named) -> None:
    """Load the application's demo data (the read side catches up on the
    next start)."""
    added = load_demo(named, Settings.from_env(data_dir=Path(data_dir)))
    click.echo(f"demo data loaded ({added} new items)")


def load_demo(named: Named, settings: Settings) -> int:
    from cqrskit.runtime.demo import NoDemoData, load_demo_catalog

    try:
        added: int = run_worker(load_demo_catalog(named.app, settings))
    except NoDemoData as e:
        raise click.UsageError(str(e)) from e
    return added
