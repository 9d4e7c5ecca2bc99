"""The `cqrskit` command line.

The root group lives in `root`, the options the commands share in `options`,
and the commands in a module each by what they are for: `embedded` (`run`),
`services` (`serve`, `up`), `workers` (`relay`, `project`), `views`
(`rebuild`, `verify`), `deadletters` (`dlq`), `demo` (`demo-data`), `tokens`
(`token`), `capacity` (`bench`, `plan`) and `status` (`status`). Here they
are put on the root group, and every option's environment variable shown in
its --help."""

from __future__ import annotations

from cqrskit.entrypoints.cli.capacity import bench, plan
from cqrskit.entrypoints.cli.deadletters import dlq
from cqrskit.entrypoints.cli.demo import demo_data
from cqrskit.entrypoints.cli.embedded import run
from cqrskit.entrypoints.cli.root import main, show_envvars
from cqrskit.entrypoints.cli.services import serve, up
from cqrskit.entrypoints.cli.status import status
from cqrskit.entrypoints.cli.tokens import token
from cqrskit.entrypoints.cli.views import rebuild, verify
from cqrskit.entrypoints.cli.workers import project, relay

__all__ = ["main"]

main.add_command(run)
main.add_command(token)
main.add_command(demo_data)
main.add_command(rebuild)
main.add_command(verify)
main.add_command(dlq)
main.add_command(bench)
main.add_command(plan)
main.add_command(serve)
main.add_command(relay)
main.add_command(project)
main.add_command(up)
main.add_command(status)

show_envvars(main)
