"""Every log line is one JSON object an operator's tools can read.

The rule that sets the banners apart: log records go to stderr, and every
stderr line must parse; what a command says to people (`run`'s banner) goes
to stdout."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import free_port

from credentials import ADMIN_HEADERS, process_env

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "cqrskit.entrypoints.cli"]
FIELDS = {"time", "level", "role", "pid", "logger", "message"}


@contextmanager
def started(tmp_path: Path, *args: str, url: str, **env: str) -> Iterator[int]:
    """The process's pid, once `url`/healthz answers; stopped with Ctrl-C."""
    with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
        proc = subprocess.Popen(
            [*CLI, *args], stdout=out, stderr=err, env=process_env(**env), cwd=tmp_path
        )
    try:
        _wait_healthy(proc, url, tmp_path)
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, tmp_path: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail((tmp_path / "err").read_text())
        time.sleep(0.1)


def log_lines(tmp_path: Path) -> list[dict[str, Any]]:
    """Every stderr line as JSON (the test fails on the first that is not)."""
    records = []
    for line in (tmp_path / "err").read_text().splitlines():
        record = json.loads(line)
        assert record.keys() >= FIELDS, line
        records.append(record)
    return records


def access_lines(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["logger"] == "uvicorn.access"]


def test_run_logs_json_with_an_access_log(tmp_path: Path) -> None:
    cport, qport = free_port(), free_port()
    command_url, query_url = f"http://127.0.0.1:{cport}", f"http://127.0.0.1:{qport}"
    args = ["run", "--command-port", str(cport), "--query-port", str(qport)]
    with started(tmp_path, *args, url=query_url) as pid:
        added = httpx.post(
            f"{command_url}/products",
            json={"sku": "LOG-01", "name": "Logbook", "price_cents": 900},
            headers={**ADMIN_HEADERS, "X-Correlation-Id": "log-test-1"},
        )
        assert added.status_code == 201, added.text
        for n in range(5):
            httpx.get(f"{query_url}/products/NOPE-{n}")
    records = log_lines(tmp_path)
    assert {r["role"] for r in records} == {"run"}
    assert {r["pid"] for r in records} == {pid}
    [write] = [r for r in access_lines(records) if r["method"] == "POST"]
    assert write["correlation_id"] == "log-test-1"
    assert write["command"] == "add_product"
    assert write["stream"] == "product-LOG-01"
    assert write["status"] == 201
    reads = [r for r in access_lines(records) if r["path"].startswith("/products/NOPE")]
    assert len(reads) == 5
    assert all(r["status"] == 404 and r["correlation_id"] for r in reads)
    assert "cqrskit is running" in (tmp_path / "out").read_text()


def test_serve_query_logs_json_from_every_worker(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    store = f"sqlite:///{tmp_path}/views.db"
    args = ["serve", "query", "--port", str(port), "--workers", "2"]
    with started(tmp_path, *args, url=url, CQRSKIT_READ_STORE_URL=store) as pid:
        for n in range(20):
            httpx.get(f"{url}/products/NOPE", headers={"X-Correlation-Id": f"q{n}"})
    records = log_lines(tmp_path)
    assert {r["role"] for r in records} == {"query"}
    served = [r for r in access_lines(records) if r["path"] == "/products/NOPE"]
    assert sorted(r["correlation_id"] for r in served) == sorted(
        f"q{n}" for n in range(20)
    )
    assert pid not in {r["pid"] for r in served}  # the workers, not the parent
    starts = [r["pid"] for r in records if "Started server process" in r["message"]]
    assert len(set(starts)) == 2
