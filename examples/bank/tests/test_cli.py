"""`cqrskit run --app examples.bank:app`, typed in the repository's root,
serves the bank: the kit finds the application as uvicorn finds an app."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from examples.bank.tests.conftest import SECRET, auth

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    command, query = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQRSKIT_")}
    env |= {"CQRSKIT_AUTH_SECRET": SECRET, "CQRSKIT_APP": "examples.bank:app"}
    argv = [
        sys.executable, "-m", "cqrskit.entrypoints.cli", "run", "--demo",
        "--command-port", str(command), "--query-port", str(query),
        "--data-dir", str(tmp_path / "data"),
    ]  # fmt: skip
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)
    urls = (f"http://127.0.0.1:{command}", f"http://127.0.0.1:{query}")
    try:
        _wait(urls, proc, log)
        yield urls
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0, log.read_text()


def _wait(urls: tuple[str, str], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)


def test_the_bank_runs_from_the_command_line(served: tuple[str, str]) -> None:
    command, query = served
    with httpx.Client() as client:
        paid = client.post(
            f"{command}/transfers",
            json={
                "from_account": "alice-main",
                "to_account": "bob-main",
                "amount_cents": 1_000,
            },
            headers=auth("alice"),
        )
        assert paid.status_code == 201, paid.text
        seen = client.get(
            f"{query}/accounts/bob-main",
            headers=auth("bob")
            | {"Consistency-Token": paid.json()["consistency_token"]},
        )
        assert seen.status_code == 200, seen.text
        assert seen.json()["balance_cents"] == 21_000
        shop_route = client.get(f"{query}/products/MUG-01")
        assert shop_route.status_code == 404
