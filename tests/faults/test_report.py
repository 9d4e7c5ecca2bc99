"""docs/reliability.md says what the last run found, failures included."""

from __future__ import annotations

from typing import Any

from faults.report import render


def scenario(name: str, passed: bool, **facts: Any) -> dict[str, Any]:
    return {
        "scenario": name,
        "fault": f"the {name}",
        "repetitions": 2,
        "in_flight_at_fault": [3, 4],
        "acknowledged": 1200,
        "commands_per_second": 61,
        "retried": {"503": 7, "connection": 2},
        "lost": 0,
        "applied_twice": 0,
        "verify_exit": 0,
        "verify_differences": 0,
        "heal_p50": 1.5,
        "heal_max": 2.25,
        "passed": passed,
        "problems": facts.pop("problems", []),
        **facts,
    }


def run(*scenarios: dict[str, Any]) -> dict[str, Any]:
    return {
        "finished_at": "2026-11-30T20:00:00+00:00",
        "commit": "abc1234",
        "machine": "2 cores, Linux x86_64",
        "python": "3.11.7",
        "command": "make test ARGS='-m faults'",
        "seconds": 300,
        "load": {"clients": 12, "commands_per_second": 80.0},
        "repetitions": 2,
        "scenarios": list(scenarios),
    }


def test_a_row_per_scenario_with_its_numbers() -> None:
    page = render(run(scenario("kill relay", True)))
    assert "python tests/faults/report.py faults-results.json" in page
    assert "**1 of 1 scenarios passed.**" in page
    row = next(line for line in page.splitlines() if line.startswith("| kill relay"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2:] == [
        "3, 4", "1200 (61/s)", "503: 7, connection: 2", "0", "0",
        "exit 0, 0 differences", "1.50", "2.25", "passed",
    ]  # fmt: skip


def test_failures_are_listed_with_their_first_line() -> None:
    failed = scenario(
        "stop rabbitmq",
        False,
        lost=2,
        verify_exit=2,
        heal_p50=None,
        heal_max=None,
        problems=["cqrskit verify exited 2:\nUsage: ...", "lost: order-1@1"],
    )
    page = render(run(scenario("kill relay", True), failed))
    assert "**1 of 2 scenarios passed.**" in page
    assert "exit 2, no verdict" in page
    assert "  - cqrskit verify exited 2:\n  - lost: order-1@1" in page
    assert "Usage" not in page
