"""`cqrskit bench` reports each phase as it ends, not all at the end."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from credentials import process_env

pytestmark = pytest.mark.e2e
CQRSKIT = str(Path(sys.executable).parent / "cqrskit")


def test_each_phase_is_reported_as_it_ends(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [CQRSKIT, "bench", "--seconds", "1", "--concurrency", "2"],
        cwd=tmp_path,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    rows: list[tuple[float, str]] = []
    with proc.stdout:
        for line in proc.stdout:
            rows.append((time.monotonic(), line.rstrip()))
    assert proc.wait(timeout=60) == 0
    texts = [text for _, text in rows]
    start = texts.index(next(t for t in texts if t.startswith("phase ")))
    phases = rows[start + 1 :]
    assert [t.split("  ")[0] for _, t in phases] == [
        "query GET /products/{sku}",
        "cart (create + add item)",
        "order (cart, item, order)",
        "command -> visible on read",
    ]
    # Each phase runs a full second: the first row came out well before the last.
    assert phases[-1][0] - phases[0][0] >= 2.5
