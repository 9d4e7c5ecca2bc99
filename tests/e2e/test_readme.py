"""The README's tour works as printed (on free ports instead of 8000/8001).

Each line of the tour runs in bash exactly as the README prints it, from the
top of the repository, but for the ports, the `cqrskit` of the interpreter
running the tests, and, on query-side reads, the Consistency-Token of the
last command, which a person typing at human speed does not need. The system
runs as `make run` does: no secret configured, so `cqrskit run` creates one in
its data directory, and `cqrskit token` (given the same directory through
CQRSKIT_DATA_DIR) signs the tour's tokens with it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import CqrskitProcess, running_cqrskit

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


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CqrskitProcess]:
    base = tmp_path_factory.mktemp("readme")
    yield from running_cqrskit(base / "data", base, "--demo", secret=False)


def run_tour(system: CqrskitProcess) -> list[tuple[str, Any]]:
    """Run every command; return (command, parsed JSON answer) pairs."""
    answers: list[tuple[str, Any]] = []
    token = ""
    env_setup = ""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQRSKIT_")}
    env["CQRSKIT_DATA_DIR"] = str(system.data_dir)
    for command in tour_commands():
        local = command.replace("localhost:8000", f"localhost:{system.command_port}")
        local = local.replace("localhost:8001", f"localhost:{system.query_port}")
        local = local.replace(".venv/bin/cqrskit", CQRSKIT)
        local = re.sub(r"\s+#.*$", "", local)  # a trailing comment
        if token and "curl -s " in local and f":{system.query_port}" in local:
            local = local.replace(
                "curl -s ", f"curl -s -H 'Consistency-Token: {token}' ", 1
            )
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
            env=env,
        )
        assert out.returncode == 0, f"{command}\n{out.stderr}"
        answer = json.loads(out.stdout)
        if assigned:
            value = answer["value"]
            env_setup += f"{assigned[1]}={shlex.quote(value)}\n"
            answer = {"consistency_token": value} if assigned[1] == "TOKEN" else {}
        token = answer.get("consistency_token", token)
        answers.append((command, answer))
    return answers


def test_the_tour_works_as_printed(demo: CqrskitProcess) -> None:
    answers = run_tour(demo)
    by_route = {c: a for c, a in answers}
    assert all(a.get("status") != 500 for _, a in answers)

    listing = next(a for c, a in answers if "products?limit=3" in c)
    assert len(listing["items"]) == 3 and listing["next_cursor"]

    hat = [a for c, a in answers if c.startswith("curl -s localhost:8001/products/HAT")]
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
