"""The root group, `cqrskit`: the log level, tracing, and the exit code of
a setting that cannot be read, for every command under it."""

from __future__ import annotations

from typing import Any

import click

from cqrskit.core.errors import Misconfigured
from cqrskit.entrypoints.cli.options import LEVEL
from cqrskit.runtime import logs, tracing

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


def show_envvars(command: click.Command) -> None:
    """Every option's variable in --help, its own or the automatic one."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in {"help", "version"}:
            param.show_envvar = True
    for sub in getattr(command, "commands", {}).values():
        show_envvars(sub)
