"""The CRUD monolith (`python -m baselines.crud`) as a system under test:
the same routes on one port, on a fresh PostgreSQL database of its own that
is dropped when it stops."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from harness import free_port
from topology import _create_database, _database_url

from services import POSTGRES_URL, require

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


async def _drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class CrudMonolith:
    """Two uvicorn workers behind one port, stopped with Ctrl-C."""

    log_dir: Path
    database: str = field(default_factory=lambda: f"crud{uuid.uuid4().hex[:10]}")
    port: int = field(default_factory=free_port)
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def command_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    query_url = command_url

    @property
    def running(self) -> bool:
        return self._proc is not None

    @property
    def log(self) -> Path:
        return self.log_dir / "crud.log"

    def start(self) -> None:
        require(POSTGRES_URL)
        asyncio.run(_create_database(self.database))
        argv = [
            sys.executable, "-m", "baselines.crud", "--port", str(self.port),
            "--database-url", _database_url(self.database), "--workers", "2",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(
                argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=1.0) as client:
            while not _ready(client, self.command_url):
                assert self._proc is not None
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"the monolith did not start:\n{self.output()}")
                time.sleep(0.05)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        assert proc is not None
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = -1
        finally:
            asyncio.run(_drop_database(self.database))
        assert code == 0, f"the monolith exited with {code}:\n{self.output()}"


def _ready(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(f"{url}/readyz").status_code == 200
    except httpx.TransportError:
        return False
