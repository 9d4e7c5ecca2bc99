"""The options that several commands share: the data directory, the
application to load, the log levels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import click

from cqrskit.core.application import Application
from cqrskit.runtime import logs
from cqrskit.runtime.applications import ApplicationNotFound, load_application
from cqrskit.runtime.settings import DEFAULT_APP

LEVEL = click.Choice(logs.LEVELS, case_sensitive=False)
F = Callable[..., Any]


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
