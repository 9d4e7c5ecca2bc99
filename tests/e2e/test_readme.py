"""The README's tour works as printed, against `cqrskit run` and `cqrskit up`
(on free ports instead of 8000/8001).

Each line of the tour runs in bash exactly as the README prints it, from the
top of the repository, but for the ports and the `cqrskit` of the interpreter
running the tests. `cqrskit run` runs as `make run` does: no secret
configured, so it creates one in its data directory, and `cqrskit token`
(given the same directory through CQRSKIT_DATA_DIR) signs the tour's tokens
with it. `cqrskit up --demo` runs on the real services (a database, a Redis
namespace and a RabbitMQ prefix of its own) with CQRSKIT_AUTH_SECRET set, as
the README says; the tour starts once its projectors have shown the demo
catalog, as a person would find it. Every read that follows a write sends the
write's Consistency-Token as printed: one process or six, the answers are the
same.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import poll, running_cqrskit
from topology import ServicesTopology

from credentials import SECRET

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CQRSKIT = str(Path(sys.executable).parent / "cqrskit")


def tour_commands() -> list[str]:
    text = README.read_text()
    tour = text[text.index("## A 60-second tour") :]
    blocks = re.findall(r"```bash\n(.*?)```", tour, flags=re.S)
    commands: list[str] = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        commands += [
            line.strip()
            for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
    return commands


@dataclass(frozen=True)
class Tour:
    command_port: int
    query_port: int
    env: dict[str, str]
    """How `cqrskit token` finds the system's secret."""


@pytest.fixture(
    scope="module",
    params=["run", pytest.param("up", marks=pytest.mark.integration)],
)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tour]:
    base = tmp_path_factory.mktemp("readme")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQRSKIT_")}
    if request.param == "run":
        for system in running_cqrskit(base / "data", base, "--demo", secret=False):
            env["CQRSKIT_DATA_DIR"] = str(system.data_dir)
            yield Tour(system.command_port, system.query_port, env)
        return
    topology = ServicesTopology(base, extra_args=("--demo",))
    topology.start()
    try:
        catalog = f"{topology.query_url}/products?limit=3"
        poll(lambda: httpx.get(catalog), lambda page: len(page["items"]) == 3)
        env["CQRSKIT_AUTH_SECRET"] = SECRET
        yield Tour(topology.command_port, topology.query_port, env)
    finally:
        topology.stop()


def test_every_read_after_a_write_sends_its_token() -> None:
    """A read right after a write shows it only with the write's token."""
    wrote = False
    for command in tour_commands():
        if "localhost:8000" in command and " -X " in command:
            wrote = True
        elif "localhost:8001" in command:
            assert not wrote or "Consistency-Token: $TOKEN" in command, command
            wrote = wrote and "Consistency-Token" not in command


def run_tour(system: Tour) -> list[tuple[str, Any]]:
    """Run every command; return (command, parsed JSON answer) pairs."""
    answers: list[tuple[str, Any]] = []
    env_setup = ""
    for command in tour_commands():
        local = command.replace("localhost:8000", f"localhost:{system.command_port}")
        local = local.replace("localhost:8001", f"localhost:{system.query_port}")
        local = local.replace(".venv/bin/cqrskit", CQRSKIT)
        local = re.sub(r"\s+#.*$", "", local)  # a trailing comment
        script = f"set -euo pipefail\n{env_setup}{local}"
        assigned = re.match(r"([A-Z_]+)=", local)
        if assigned:  # show what the variable holds
            script += f'\necho "{{\\"value\\": \\"${assigned[1]}\\"}}"'
        out = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
            env=system.env,
        )
        assert out.returncode == 0, f"{command}\n{out.stderr}"
        answer = json.loads(out.stdout)
        if assigned:
            value = answer["value"]
            assert value, f"{command} set nothing"
            env_setup += f"{assigned[1]}={shlex.quote(value)}\n"
            answer = {}
        answers.append((command, answer))
    return answers


def test_the_tour_works_as_printed(demo: Tour) -> None:
    answers = run_tour(demo)
    by_route = {c: a for c, a in answers}
    assert all(a.get("status") != 500 for _, a in answers)

    listing = next(a for c, a in answers if "products?limit=3" in c)
    assert len(listing["items"]) == 3 and listing["next_cursor"]

    hat = [a for c, a in answers if "localhost:8001/products/HAT" in c]
    assert hat[0]["available"] == 10
    assert hat[1]["available"] == 8, "the order reserved two hats"

    cart = next(a for c, a in by_route.items() if "8001/carts/a1" in c)
    assert cart["total_cents"] == 2 * 2400 + 1250

    declined = next(a for c, a in answers if "4000000000000002" in c)
    assert declined["status"] == 402

    order, bob, anonymous = [a for c, a in answers if "8001/orders/o1" in c]
    assert order["status"] == "placed" and order["total_cents"] == 2 * 2400 + 1250
    assert bob["status"] == 404 and bob["detail"] == "order o1 does not exist"
    assert anonymous["status"] == 401

    history = next(a for c, a in answers if "customers/alice/orders" in c)
    assert [o["order_id"] for o in history["items"]] == ["o1"]

    trail = next(a for c, a in answers if "streams/order-o1" in c)
    types = [e["type"] for e in trail["events"]]
    assert types == ["OrderPlaced", "OrderCancelled"]

    again = answers[-1][1]
    assert again["status"] == 409
    assert again["detail"] == "product HAT-01 already exists"
