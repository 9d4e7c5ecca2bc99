"""bench/compare.sh runs end to end: every row of its table gets a figure, the
rest of the document it writes into is kept, and it leaves no database behind
(other runs of compare.sh on the same services may go on meanwhile).

Opt-in with CQRSKIT_RUN_BENCH=1: it takes minutes and loads the whole machine,
so it does not run in CI by default.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import asyncpg
import pytest

from services import AMQP_URL, POSTGRES_URL, REDIS_URL, require

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("CQRSKIT_RUN_BENCH") != "1",
        reason="a benchmark smoke run: set CQRSKIT_RUN_BENCH=1",
    ),
]
REPO = Path(__file__).resolve().parents[2]
MEASURED_ROWS = (
    "anchor: FastAPI, GET constant JSON",
    "anchor: Starlette, GET constant JSON",
    "anchor: FastAPI, GET = one redis.asyncio GET",
    "anchor: FastAPI, POST = one asyncpg INSERT of an event row",
    "ours: `GET /products/{sku}`",
    "ours: `POST /products` (new SKU each)",
    "ours: `POST /products`, traces on (every span exported)",
    "ours: `POST /inventory/{sku}/restock`",
    "pgbench, one-row INSERT, 1 client",
    "pgbench, one-row INSERT, 32 clients",
    "appends/s, one event each, 1 writer",
    "sync lag p50 (command acknowledged → visible)",
    "pipeline, relay → RabbitMQ → 1 projector → Redis",
    "pipeline, relay → RabbitMQ → 2 projectors → Redis",
    "pipeline, relay → RabbitMQ → 4 projectors → Redis",
    "`cqrskit rebuild`",
)


FIGURE = r" [0-9][0-9,.]* "
HOT_ROW = re.compile(
    rf"^\| hot: one SKU \|{FIGURE}\|(?:{FIGURE}\|){{4}}{FIGURE}\|"
    r" ≥ 0\.5: (met|\*\*not met\*\*) \|$",
    re.M,
)
LONG_ROW = (
    r"^\| 10,000 \| {command} \| {load} \|(?:{figure}\|){{3}}"
    r" ≤ 2x: (met|\*\*not met\*\*) \|$"
)


def assert_write_side_rows(text: str) -> None:
    """The hot-SKU ratio and the long-stream cells (quick: 0 and 10,000
    events) each carry a figure and a verdict on the target."""
    assert HOT_ROW.search(text), "no hot-SKU row"
    assert re.search(
        r"^\| spread: a SKU per client \|(?:" + FIGURE + r"\|){5}", text, re.M
    )
    for command in ("order", "restock"):
        for load in ("cold", "warm"):
            row = LONG_ROW.format(command=command, load=load, figure=FIGURE)
            assert re.search(row, text, re.M), f"no long-stream row: {command} {load}"
    assert "- hot_sku: `bench/hot_sku.py --seconds 1 " in text
    assert "- long_streams: `bench/long_streams.py --lengths 0,10000 " in text
    assert "not yet part of this run" not in text


async def run_databases() -> set[str]:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        rows = await conn.fetch(
            "SELECT datname FROM pg_database"
            " WHERE datname LIKE 'cmp\\_%' OR datname LIKE 'pipe\\_%'"
        )
    finally:
        await conn.close()
    return {row["datname"] for row in rows}


def test_a_quick_run_fills_every_row_and_cleans_up(tmp_path: Path) -> None:
    for url in (POSTGRES_URL, REDIS_URL, AMQP_URL):
        require(url)
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro.\n\n## Kept\n\nAs it was.\n")
    before = asyncio.run(run_databases())
    with subprocess.Popen(
        ["bash", "bench/compare.sh", "--quick", "--seconds", "1", "--out", str(doc)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as run:
        _, err = run.communicate(timeout=1200)
    assert run.returncode == 0, err.decode()[-3000:]
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nIntro.\n")
    assert text.endswith("## Kept\n\nAs it was.\n")
    for label in MEASURED_ROWS:
        row = next(line for line in text.splitlines() if line.startswith(f"| {label}"))
        # The first figure: req/s after the setup column, else the first cell.
        figure = row.split("|")[3 if label.startswith(("anchor", "ours")) else 2]
        assert re.fullmatch(r" [0-9][0-9,.]* (ms |events/s .*)?", figure), row
    assert re.search(r"hot views .* worst [0-9][0-9.]* ms", text), "no staleness"
    assert_write_side_rows(text)
    left = asyncio.run(run_databases()) - before
    assert {name for name in left if not running(name)} == set()


def running(name: str) -> bool:
    """Whether the process that made a database still runs: compare.sh names
    its own cmp_TIME_PID (and cmp_TIME_PID_hot), bench/pipeline.py its own
    pipe_TIME_PID_*; another run may go on beside this one."""
    try:
        os.kill(int(name.split("_")[2]), 0)
    except ProcessLookupError:
        return False
    return True
