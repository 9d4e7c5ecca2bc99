"""Every role started on one host with its default port gets a port of its
own: none of `serve command`, `serve query`, `serve console`, `relay` and
`project` has to be told `--port` to start beside the others."""

from __future__ import annotations

import click

from cqrskit.entrypoints.cli import main


def default_port(*path: str) -> int:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, name
        command = found
    (port,) = (p for p in command.params if p.name == "port")
    assert isinstance(port.default, int)
    return port.default


def test_roles_default_to_ports_of_their_own() -> None:
    ports = {
        "command": default_port("serve", "command"),
        "query": default_port("serve", "query"),
        "console": default_port("serve", "console"),
        "relay": default_port("relay"),
        "project": default_port("project"),
    }
    assert len(set(ports.values())) == len(ports), ports


def test_console_defaults_to_the_port_up_gives_it() -> None:
    up = main.get_command(click.Context(main), "up")
    assert up is not None
    first = next(p for p in up.params if p.name == "first_worker_port").default
    # up's workers from its first port: two relays, two projectors, the console
    assert default_port("serve", "console") == first + 4
