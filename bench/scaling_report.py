"""Writes docs/scaling.md and its plots from `bench/mixed_load.py --out` lines.

    .venv/bin/python bench/scaling_report.py RESULTS.jsonl [--docs docs]

One line per (system, workers, offered load). The report has a table per
system and worker count, the highest load each held without saturating, and
two plots against offered load: achieved reads/s, and read p99. Needs
matplotlib (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import json
import platform
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

Row = dict[str, Any]
Series = dict[tuple[str, int], list[Row]]
LABEL = {"crud": "CRUD monolith", "cqrs": "CQRS"}


def load(path: Path) -> Series:
    series: Series = defaultdict(list)
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            series[(row["system"], int(row["workers"]))].append(row)
    for rows in series.values():
        rows.sort(key=lambda r: r["offered"])
    return dict(sorted(series.items()))


def held(rows: list[Row]) -> Row | None:
    """The highest level below the first saturated one."""
    best = None
    for row in rows:
        if row["saturated"]:
            break
        best = row
    return best


def plot(series: Series, key: str, ylabel: str, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for (system, workers), rows in series.items():
        style = "-" if system == "cqrs" else "--"
        ax.plot(
            [r["offered"] for r in rows],
            [r[key] for r in rows],
            style,
            marker="o",
            label=f"{LABEL[system]}, {workers} worker{'s' * (workers > 1)}",
        )
    if key == "reads_s":
        top = max(r["reads_offered"] for rows in series.values() for r in rows)
        ax.plot([0, top * 101 / 100], [0, top], ":", color="grey", label="offered")
    ax.set_xlabel("offered requests/s (reads + writes, 100:1)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| offered/s | reads/s | read p50 ms | read p99 ms | writes/s "
        "| write p50 ms | write p99 ms | sync lag p50 ms | failed | |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        cells = [
            fmt(r["offered"], ",.0f"),
            fmt(r["reads_s"], ",.0f"),
            fmt(r["read_p50_ms"], ".1f"),
            fmt(r["read_p99_ms"], ".1f"),
            fmt(r["writes_s"], ",.1f"),
            fmt(r["write_p50_ms"], ".1f"),
            fmt(r["write_p99_ms"], ".1f"),
            fmt(r.get("lag_p50_ms"), ".1f"),
            fmt(r["failed"], ".0f"),
            "saturated" if r["saturated"] else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def summary(series: Series) -> list[str]:
    lines = [
        "| system | query workers | highest load held | reads/s there "
        "| read p99 ms there |",
        "|---|---:|---:|---:|---:|",
    ]
    for (system, workers), rows in series.items():
        best = held(rows)
        cells = [LABEL[system], str(workers)]
        if best is None:
            cells += ["below the lowest level", "-", "-"]
        else:
            cells += [
                fmt(best["offered"], ",.0f"),
                fmt(best["reads_s"], ",.0f"),
                fmt(best["read_p99_ms"], ".1f"),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def report(series: Series, docs: Path, command: str) -> str:
    images = docs / "img"
    images.mkdir(exist_ok=True)
    plot(series, "reads_s", "achieved reads/s", images / "scaling-throughput.png")
    plot(series, "read_p99_ms", "read p99 (ms)", images / "scaling-p99.png")
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    parts = [
        "# The case for CQRS, measured",
        "",
        f"One run on {when}, {platform.machine()}, {_cores()} cores shared by the",
        "servers, PostgreSQL, Redis, RabbitMQ and the load generator (`wrk`).",
        "Both systems serve the same HTTP contract ([http-api.md](http-api.md)); the",
        "monolith is [baselines/crud](../baselines/crud/README.md). Offered load is",
        "paced: reads (product, cart and order history) and writes (cart items,",
        "orders) at 100 to 1. A level is *saturated* when a side achieves under",
        "80 % of what was offered. The sync lag is how long a restock takes to show",
        "on the query side; the monolith reads the tables it writes, so its figure",
        "is only the probe's own round trips.",
        "",
        "```",
        command,
        "```",
        "",
        "## Where each saturates",
        "",
        *summary(series),
        "",
        "![achieved reads/s against offered load](img/scaling-throughput.png)",
        "",
        "![read p99 against offered load](img/scaling-p99.png)",
        "",
        "## Every level",
    ]
    for (system, workers), rows in series.items():
        parts += ["", f"### {LABEL[system]}, {workers} query worker(s)", ""]
        parts += table(rows)
    parts += [
        "",
        "## Reading it",
        "",
        READING,
        "",
        "The capacity planner (`cqrskit plan`, [deployment.md](deployment.md)) turns",
        "per-process figures like these into instance counts for a target load.",
    ]
    return "\n".join(parts) + "\n"


READING = (
    "On one machine both systems share two cores with their databases and the\n"
    "load generator, so adding query workers helps only until the cores run out;\n"
    "what the table shows is where each design spends them. The monolith answers\n"
    "every read with JOINs on the tables its writes lock; the CQRS query service\n"
    "answers with one Redis read of a document stored in the shape of its answer,\n"
    "and its workers scale with no coordination. On separate machines each side\n"
    "adds its own processes: see deployment.md."
)


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--docs", type=Path, default=Path("docs"))
    parser.add_argument(
        "--command", default="bench/scaling.sh", help="the command that made it"
    )
    args = parser.parse_args()
    series = load(args.results)
    text = report(series, args.docs, args.command)
    (args.docs / "scaling.md").write_text(text)
    levels = sum(map(len, series.values()))
    print(f"wrote {args.docs / 'scaling.md'} from {levels} levels")


if __name__ == "__main__":
    main()
