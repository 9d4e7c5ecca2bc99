"""The README's tour works as printed (on free ports instead of 8000/8001).

Each `curl` of the tour runs in bash exactly as the README prints it, but for
the ports and, on query-side reads, the Consistency-Token of the last command,
which a person typing at human speed does not need.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import CqrskitProcess, running_cqrskit

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


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
    yield from running_cqrskit(base / "data", base, "--demo")


def run_tour(system: CqrskitProcess) -> list[tuple[str, Any]]:
    """Run every command; return (command, parsed JSON answer) pairs."""
    answers: list[tuple[str, Any]] = []
    token = ""
    env_setup = ""
    for command in tour_commands():
        local = command.replace("localhost:8000", f"localhost:{system.command_port}")
        local = local.replace("localhost:8001", f"localhost:{system.query_port}")
        local = re.sub(r"\s+#.*$", "", local)  # a trailing comment
        if token and "curl -s " in local and f":{system.query_port}" in local:
            local = local.replace(
                "curl -s ", f"curl -s -H 'Consistency-Token: {token}' ", 1
            )
        script = f"set -euo pipefail\n{env_setup}{local}"
        if local.startswith("TOKEN="):  # show what the variable holds
            script += '\necho "{\\"consistency_token\\": \\"$TOKEN\\"}"'
        out = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=30
        )
        assert out.returncode == 0, f"{command}\n{out.stderr}"
        if local.startswith("TOKEN="):
            env_setup = f"TOKEN={json.loads(out.stdout)['consistency_token']}\n"
        answer = json.loads(out.stdout)
        token = answer.get("consistency_token", token)
        answers.append((command, answer))
    return answers


def test_the_tour_works_as_printed(demo: CqrskitProcess) -> None:
    answers = run_tour(demo)
    by_route = {c: a for c, a in answers}
    assert all(a.get("status") != 500 for _, a in answers)

    listing = answers[0][1]
    assert len(listing["items"]) == 3 and listing["next_cursor"]

    hat = [a for c, a in answers if c.startswith("curl -s localhost:8001/products/HAT")]
    assert hat[0]["available"] == 10
    assert hat[1]["available"] == 8, "the order reserved two hats"

    cart = next(a for c, a in by_route.items() if "8001/carts/a1" in c)
    assert cart["total_cents"] == 2 * 2400 + 1250

    declined = next(a for c, a in answers if "4000000000000002" in c)
    assert declined["status"] == 402

    order = next(a for c, a in answers if "8001/orders/o1" in c)
    assert order["status"] == "placed" and order["total_cents"] == 2 * 2400 + 1250

    history = next(a for c, a in answers if "customers/alice/orders" in c)
    assert [o["order_id"] for o in history["items"]] == ["o1"]

    trail = next(a for c, a in answers if "streams/order-o1" in c)
    types = [e["type"] for e in trail["events"]]
    assert types == ["OrderPlaced", "OrderCancelled"]

    again = answers[-1][1]
    assert again["status"] == 409
    assert again["detail"] == "product HAT-01 already exists"
