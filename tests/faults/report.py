"""Render docs/reliability.md from the fault suite's results file.

    python tests/faults/report.py faults-results.json > docs/reliability.md

Plain Python with no imports from the project, so it runs anywhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

INTRO = """\
# Reliability

What happens to cqrskit when its processes die and its services go away, as
measured by the fault suite (`tests/faults/`). This page is generated from the
suite's last run; do not edit it by hand. To reproduce:

```sh
make test ARGS="-m faults"          # writes faults-results.json
python tests/faults/report.py faults-results.json > docs/reliability.md
```

## How it is measured

- **Topology**: `cqrskit up` (command service, query service with 2 workers,
  two relays, one on standby, two projectors) on a PostgreSQL, a Redis and a
  RabbitMQ node that the suite starts for itself on spare ports, so it can
  stop and restart them. Each scenario gets a fresh `cqrskit up`.
- **Load**: {clients} clients sending about {rate:g} commands/s in all:
  products, restocks, carts, items and orders paid with the approving test
  card. Every command carries an `Idempotency-Key`; a 5xx answer or a lost
  connection is retried with capped, jittered backoff under the same key, as
  a real client would.
- **Faults**: each repeated {repetitions} times under the load.
- **Checks** after each scenario:
  - *lost*: acknowledged commands whose events the event store does not hold
    at the acknowledged version and position (read back through the
    PostgreSQL event store);
  - *applied twice*: SKUs whose stock, folded from the event store and read
    from the query side, differs from restocked - reserved computed from the
    acknowledgements;
  - *verify*: the exit code of `cqrskit verify` (0: every read-model document
    and index entry equals a fresh fold of the event store);
  - *heal*: seconds from the end of the fault (for a rebuild: the end of the
    rebuild) until a command sent after it is acknowledged and the query side
    answers reads carrying its Consistency-Token and the newest load
    acknowledgement's (bounded at 60 s).
"""

COLUMNS = (
    "| scenario | fault | in flight at fault | acknowledged (rate) | retried | lost "
    "| applied twice | verify | heal p50 (s) | heal max (s) | result |"
)


def render(run: dict[str, Any]) -> str:
    scenarios = run["scenarios"]
    passed = sum(1 for s in scenarios if s["passed"])
    lines = [
        INTRO.format(
            clients=run["load"]["clients"],
            rate=run["load"]["commands_per_second"],
            repetitions=run["repetitions"],
        ),
        "## Last run",
        "",
        f"Finished {run['finished_at']} on commit `{run['commit']}`, "
        f"{run['machine']}, Python {run['python']}, in {run['seconds']} s "
        f"with `{run['command']}`: **{passed} of {len(scenarios)} scenarios "
        "passed.**",
        "",
        COLUMNS,
        "|" + "---|" * COLUMNS.count(" | ") + "---|",
        *(_row(s) for s in scenarios),
        "",
    ]
    failed = [s for s in scenarios if not s["passed"]]
    if failed:
        lines += ["## What failed", ""]
        for s in failed:
            lines.append(f"- **{s['scenario']}**:")
            lines += [f"  - {_first_line(p)}" for p in s["problems"][:4]]
        lines.append("")
    return "\n".join(lines)


def _row(s: dict[str, Any]) -> str:
    cells = [
        s["scenario"],
        s["fault"],
        ", ".join(map(str, s.get("in_flight_at_fault", []))) or "-",
        _acknowledged(s),
        _counts(s.get("retried", {})),
        s.get("lost", "-"),
        s.get("applied_twice", "-"),
        _verify(s),
        _seconds(s.get("heal_p50")),
        _seconds(s.get("heal_max")),
        "passed" if s["passed"] else "**failed**",
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _acknowledged(s: dict[str, Any]) -> str:
    if "acknowledged" not in s:
        return "-"
    rate = s.get("commands_per_second")
    return (
        f"{s['acknowledged']} ({rate}/s)"
        if rate is not None
        else str(s["acknowledged"])
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "0"


def _verify(s: dict[str, Any]) -> str:
    code = s.get("verify_exit")
    if code is None:
        return "-"
    if code in (0, 1):
        return f"exit {code}, {s.get('verify_differences', 0)} differences"
    return f"exit {code}, no verdict"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _first_line(problem: str) -> str:
    line = problem.strip().splitlines()[0] if problem.strip() else problem
    return line.replace("|", "\\|")[:300]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tests/faults/report.py RESULTS.json", file=sys.stderr)
        return 2
    sys.stdout.write(render(json.loads(Path(argv[1]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
