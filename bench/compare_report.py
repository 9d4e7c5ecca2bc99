"""The comparison section of docs/benchmarks.md, from bench/compare.sh's
result lines.

    .venv/bin/python bench/compare_report.py RESULTS.jsonl [--out FILE|-]
        [--command TEXT] [--workers W] [--seconds S]

The table sits between BEGIN and END markers; the rest of the file (the
heading and how to read the table, above the markers) is kept. Without the
markers it goes, under HEADING, before the file's first `## ` heading.
A figure joins the table by a result line with its key (compare.py emits
them) and a Row below naming its anchor and target; a row whose figure is
missing says so, with the issue that owes it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from write_side_report import hot_sku_rows, long_stream_rows

BEGIN = "<!-- bench/compare.sh: begin (generated; edit bench/compare_report.py) -->"
END = "<!-- bench/compare.sh: end -->"
HEADING = "## Side by side: ours against the anchors (bench/compare.sh)"


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    anchors: tuple[tuple[str, float | None, str], ...] = ()
    """(anchor key, target ratio or None, which issue sets it)."""


HTTP_ROWS = (
    Row("fastapi_constant", "anchor: FastAPI, GET constant JSON"),
    Row("starlette_constant", "anchor: Starlette, GET constant JSON"),
    Row("anchor_redis_get", "anchor: FastAPI, GET = one redis.asyncio GET"),
    Row("anchor_insert", "anchor: FastAPI, POST = one asyncpg INSERT of an event row"),
    Row(
        "ours_get_product",
        "ours: `GET /products/{sku}`",
        (
            ("anchor_redis_get", 2.0, "issue 9"),
            ("starlette_constant", 0.45, "issue 9"),
        ),
    ),
    Row(
        "ours_post_products",
        "ours: `POST /products` (new SKU each)",
        (("anchor_insert", 0.60, "issue 8"),),
    ),
    Row(
        "ours_post_products_traced",
        "ours: `POST /products`, traces on (every span exported)",
        (("ours_post_products", None, "issue 11"), ("anchor_insert", None, "")),
    ),
    Row(
        "ours_restock",
        "ours: `POST /inventory/{sku}/restock`",
        (("anchor_insert", 0.60, "issue 8"),),
    ),
)
DATABASE_ROWS = (
    Row("pgbench_1", "pgbench, one-row INSERT, 1 client"),
    Row("pgbench_32", "pgbench, one-row INSERT, 32 clients"),
)


def load(path: Path) -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            results[record["key"]] = record
    return results


def num(value: object, spec: str = ",.0f") -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "-"
    return format(value, spec)


def ratio_cells(row: Row, results: dict[str, dict[str, object]]) -> tuple[str, str]:
    ratios, targets = [], []
    ours = results.get(row.key, {}).get("per_s")
    for anchor, target, issue in row.anchors:
        base = results.get(anchor, {}).get("per_s")
        name = anchor.removeprefix("anchor_")
        if not isinstance(ours, float) or not isinstance(base, float) or not base:
            ratios.append(f"- of {name}")
            continue
        value = ours / base
        ratios.append(f"{value:.2f}x {name}")
        if target is not None:
            met = "met" if value >= target else "**not met**"
            targets.append(f"≥ {target:g}x ({issue}): {met}")
    return "<br>".join(ratios) or "", "<br>".join(targets) or ""


def http_table(results: dict[str, dict[str, object]]) -> list[str]:
    lines = [
        "| target | setup | req/s | p50 ms | p99 ms | errors | ours / anchor"
        " | target |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in HTTP_ROWS:
        r = results.get(row.key, {})
        ratio, target = ratio_cells(row, results)
        lines.append(
            f"| {row.label} | {r.get('setup', 'not measured')} | {num(r.get('per_s'))}"
            f" | {num(r.get('p50_ms'), '.1f')} | {num(r.get('p99_ms'), '.1f')}"
            f" | {num(r.get('errors'))} | {ratio} | {target} |"
        )
    ours, naive = (
        results.get("ours_get_product", {}),
        results.get("anchor_redis_get", {}),
    )
    p99, naive_p99 = ours.get("p99_ms"), naive.get("p99_ms")
    if isinstance(p99, float) and isinstance(naive_p99, float):
        met = "met" if p99 <= naive_p99 else "**not met**"
        lines.append(
            f"\nRead p99 no worse than the naive route's (issue 9): {p99:.1f} ms"
            f" against {naive_p99:.1f} ms, {met}."
        )
    return lines


def database_table(results: dict[str, dict[str, object]]) -> list[str]:
    lines = ["| ceiling | per s | mean ms | failed |", "|---|---:|---:|---:|"]
    for row in DATABASE_ROWS:
        r = results.get(row.key, {})
        lines.append(
            f"| {row.label} | {num(r.get('per_s'))} | {num(r.get('mean_ms'), '.2f')}"
            f" | {num(r.get('errors'))} |"
        )
    insert, pg32 = results.get("anchor_insert", {}), results.get("pgbench_32", {})
    a, b = insert.get("per_s"), pg32.get("per_s")
    if isinstance(a, float) and isinstance(b, float) and b:
        lines.append(
            f"\nThe bare INSERT route reaches {a / b:.0%} of pgbench at 32 clients."
        )
    return lines


def store_table(results: dict[str, dict[str, object]]) -> list[str]:
    ours_a = results.get("store_append", {}).get("per_s")
    peer_a = results.get("peer_append", {}).get("per_s")
    ours_l = results.get("store_load", {}).get("ms")
    peer_l = results.get("peer_load", {}).get("ms")
    events = results.get("store_load", {}).get("events", 10_000)

    def times(a: object, b: object) -> str:
        ok = isinstance(a, float) and isinstance(b, float) and b
        return f"{a / b:.1f}x" if ok else "-"  # type: ignore[operator]

    return [
        "| work | ours (PostgresEventStore) | eventsourcing | ours faster by |",
        "|---|---:|---:|---:|",
        f"| appends/s, one event each, 1 writer | {num(ours_a)} | {num(peer_a)}"
        f" | {times(ours_a, peer_a)} |",
        f"| load one stream of {num(events)} events, ms | {num(ours_l, '.1f')}"
        f" | {num(peer_l, '.1f')} | {times(peer_l, ours_l)} |",
    ]


def lag_rows(results: dict[str, dict[str, object]]) -> list[str]:
    lag = results.get("sync_lag", {})
    p50, p99 = lag.get("p50_ms"), lag.get("p99_ms")

    def met(value: object, bound: float) -> str:
        if not isinstance(value, float):
            return "-"
        return "met" if value <= bound else "**not met**"

    return [
        "| figure | measured | target (issue 9) |",
        "|---|---:|---|",
        f"| sync lag p50 (command acknowledged → visible) | {num(p50, '.1f')} ms"
        f" | ≤ 5 ms: {met(p50, 5)} |",
        f"| sync lag p99 | {num(p99, '.1f')} ms | ≤ 20 ms: {met(p99, 20)} |",
        *pipeline_rows(results),
    ]


def staleness_rows(results: dict[str, dict[str, object]]) -> list[str]:
    found = results.get("staleness")
    if not found:
        return []
    p50, p99, worst = (found.get(k) for k in ("p50_ms", "p99_ms", "max_ms"))
    notice = [num(found.get(f"notice_{k}_ms"), ".2f") for k in ("p50", "p99", "max")]
    return [
        "Staleness of the query service's cache of hot views (bench/staleness.py): "
        "a product view rewritten in Redis through the projector's commit script, "
        f"{num(found.get('samples'))} times, and read over 8 connections until each "
        "is served the new one; the time from the commit's return until the last "
        f"old answer came back: p50 {num(p50, '.2f')} ms, p99 {num(p99, '.2f')} ms, "
        f"worst {num(worst, '.2f')} ms. The change notice alone, from the commit's "
        f"call until it arrives: p50 {notice[0]} ms, p99 {notice[1]} ms, worst "
        f"{notice[2]} ms.",
        "",
    ]


STAGES = (
    ("committed_to_read", "committed → read by the relay"),
    ("read_to_confirmed", "read → published and confirmed by RabbitMQ"),
    ("published_to_delivered", "published → delivered to a projector"),
    ("delivered_to_applied", "delivered → applied to Redis"),
    ("applied_to_visible", "applied → visible to the query service"),
)


def stage_rows(results: dict[str, dict[str, object]]) -> list[str]:
    """The lag phase's stages (bench/sync_stages.py), one row each."""
    stages = results.get("sync_stages", {}).get("stages")
    if not isinstance(stages, dict):
        return []
    lines = [
        "Where the lag goes during that phase: `cqrskit_sync_stage_seconds` of the"
        " relay, projectors and query service (one observation per batch; p50 and"
        " p99 interpolated within the histogram's buckets; committed → read starts"
        " at the event's recorded time, taken just before its append, so it"
        " holds the append's own commit too; applied → visible is one query"
        " worker's, one observation per checkpoint notice read, by Redis's clock).",
        "",
        "| stage | batches | mean ms | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, label in STAGES:
        r = stages.get(key, {})
        lines.append(
            f"| {label} | {num(r.get('batches'))} | {num(r.get('mean_ms'), '.1f')}"
            f" | {num(r.get('p50_ms'), '.1f')} | {num(r.get('p99_ms'), '.1f')} |"
        )
    return ["", *lines]


PIPELINE_ROWS = (
    ("pipeline_p1", "pipeline, relay → RabbitMQ → 1 projector → Redis", None),
    ("pipeline_p2", "pipeline, relay → RabbitMQ → 2 projectors → Redis", 40_000),
    ("pipeline_p4", "pipeline, relay → RabbitMQ → 4 projectors → Redis", None),
    ("rebuild", "`cqrskit rebuild`", 60_000),
)


def pipeline_rows(results: dict[str, dict[str, object]]) -> list[str]:
    """events/s of bench/pipeline.py (and with the process's start)."""
    lines = []
    for key, label, target in PIPELINE_ROWS:
        r = results.get(key, {})
        rate, started = r.get("per_s"), r.get("with_start_per_s")
        if isinstance(rate, float):
            measured = f"{rate:,.0f} events/s ({num(started)} with start)"
        else:
            measured = "(issue 9)"
        if target is None:
            goal = "measured (issue 9)"
        elif isinstance(rate, float):
            met = "met" if rate >= target else "**not met**"
            goal = f"≥ {target:,} events/s: {met}"
        else:
            goal = f"≥ {target:,} events/s"
        lines.append(f"| {label} | {measured} | {goal} |")
    return [*lines, *lag_refresh_row(results.get("lag_refresh", {}))]


def lag_refresh_row(r: dict[str, object]) -> list[str]:
    """One refresh of the lag metrics beside reading its window whole."""
    cpu, whole = r.get("refresh_cpu_ms"), r.get("decoded_cpu_ms")
    if not (isinstance(cpu, float) and isinstance(whole, float)):
        return []
    return [
        f"| lag metrics refresh, {num(r.get('events'))} pending events | CPU "
        f"{cpu:.1f} ms ({cpu / whole:.2f} of reading them whole with `read_all`: "
        f"{whole:.1f} ms) | measured |"
    ]


def section(results: dict[str, dict[str, object]], args: argparse.Namespace) -> str:
    commands = "\n".join(
        f"- {r['key']}: `{r['command']}`" for r in results.values() if r.get("command")
    )
    parts = [
        BEGIN,
        f"One run of `{args.command}`: every HTTP target served by uvicorn on "
        f"uvloop and httptools with {args.workers} workers, driven by "
        f"`wrk -t2` for {args.seconds} s; commands with 32 connections, reads "
        "with 64 (unless the command says otherwise).",
        "",
        *http_table(results),
        "",
        *database_table(results),
        "",
        *store_table(results),
        "",
        *lag_rows(results),
        *stage_rows(results),
        "",
        "The pipeline rows: bench/pipeline.py appends the events first, then "
        "times relay and projectors as processes from the first applied "
        "position seen until every projection has caught up (with start: from "
        "the relay's start); the rebuild by its own report (with start: the "
        "whole process).",
        "",
        *staleness_rows(results),
        *hot_sku_rows(results),
        *long_stream_rows(results),
        "The exact commands (wrk's script: bench/compare.lua; pgbench's "
        "insert.sql: one `INSERT INTO anchor_events ... VALUES (...)` of an event "
        "row with a new stream id):",
        "",
        commands,
        END,
    ]
    return "\n".join(parts) + "\n"


def splice(document: str, generated: str) -> str:
    if BEGIN in document and END in document:
        head, rest = document.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return head + generated.rstrip("\n") + tail
    generated = f"{HEADING}\n\n{generated}"
    at = document.find("\n## ")
    if at < 0:
        return document.rstrip("\n") + "\n\n" + generated
    return document[: at + 1] + generated + "\n" + document[at + 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", default="docs/benchmarks.md")
    parser.add_argument("--command", default="bench/compare.sh")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    generated = section(load(args.results), args)
    if args.out == "-":
        sys.stdout.write(generated)
        return
    out = Path(args.out)
    out.write_text(splice(out.read_text() if out.exists() else "", generated))
    print(f"compare: wrote the comparison section of {out}")


if __name__ == "__main__":
    main()
