"""End-to-end harness: `cqrskit run` started as a real process, HTTP from outside.

The process runs on two free ports with its SQLite stores under a temporary
directory. Stopping it sends SIGINT, as Ctrl-C would, and the test fails
unless it exits cleanly (code 0) within a bounded time.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from credentials import ADMIN_HEADERS, process_env

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
POLL_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env() -> dict[str, str]:
    """The embedded defaults, whatever the developer's shell points at."""
    return process_env()


@dataclass
class CqrskitProcess:
    """One `cqrskit run` process on a data directory."""

    data_dir: Path
    log_dir: Path
    command_port: int = field(default_factory=free_port)
    query_port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    secret: bool = True
    """Give it the tests' secret; without, it makes its own (as `make run`)."""
    _proc: subprocess.Popen[bytes] | None = None
    _starts: int = 0
    _logs: list[Path] = field(default_factory=list)

    @property
    def command_url(self) -> str:
        return f"http://127.0.0.1:{self.command_port}"

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.query_port}"

    def start(self) -> None:
        """Start on this process's ports (the same ones again after a stop)."""
        assert self._proc is None, "already running"
        self._starts += 1
        log = self.log_dir / f"cqrskit-{self._starts}.log"
        self._logs.append(log)
        argv = [
            sys.executable, "-m", "cqrskit.entrypoints.cli", "run",
            "--command-port", str(self.command_port),
            "--query-port", str(self.query_port),
            "--data-dir", str(self.data_dir),
            *self.extra_args,
        ]  # fmt: skip
        with log.open("wb") as out:
            self._proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=self._env()
            )
        self._wait_healthy()

    def _env(self) -> dict[str, str]:
        env = _clean_env()
        if not self.secret:
            del env["CQRSKIT_AUTH_SECRET"]
        return env

    def _wait_healthy(self) -> None:
        """Both services answer /healthz, or the test fails with the output."""
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=1.0) as client:
            for url in (self.command_url, self.query_url):
                while not _healthy(client, url):
                    assert self._proc is not None
                    if (code := self._proc.poll()) is not None:
                        self._proc = None
                        pytest.fail(f"cqrskit exited with {code}:\n{self.output()}")
                    if time.monotonic() > deadline:
                        self.kill()
                        pytest.fail(f"cqrskit not healthy in time:\n{self.output()}")
                    time.sleep(0.05)

    def stop(self) -> None:
        """Ctrl-C, then insist on a clean exit."""
        proc, self._proc = self._proc, None
        assert proc is not None, "not running"
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"cqrskit ignored SIGINT:\n{self.output()}")
        assert code == 0, f"cqrskit exited with {code} on SIGINT:\n{self.output()}"

    def restart(self) -> None:
        """Ctrl-C, then start again on the same data directory and ports."""
        self.stop()
        self.start()

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None

    def output(self) -> str:
        parts = [
            f"--- {log.name} ---\n{log.read_text(errors='replace')}"
            for log in self._logs
        ]
        return "\n".join(parts)


def _healthy(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(f"{url}/healthz").status_code == 200
    except httpx.TransportError:
        return False


def running_cqrskit(
    data_dir: Path, log_dir: Path, *extra_args: str, secret: bool = True
) -> Iterator[CqrskitProcess]:
    system = CqrskitProcess(data_dir, log_dir, extra_args=extra_args, secret=secret)
    system.start()
    yield system
    if system.running:
        system.stop()  # asserts a clean exit on Ctrl-C


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("embedded"),
        pytest.param("services", marks=pytest.mark.integration),
        pytest.param("crud", marks=pytest.mark.integration),
    ],
)
def cqrskit(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One running system shared by a test module (tests use their own ids):
    `cqrskit run` on the embedded stores, then `cqrskit up` on the real
    services (separate processes for each role), then the CRUD monolith
    baseline, which must keep the same contract."""
    base = tmp_path_factory.mktemp("cqrskit")
    if request.param == "embedded":
        yield from running_cqrskit(base / "data", base)
        return
    from crud_baseline import CrudMonolith
    from topology import ServicesTopology

    system = (
        ServicesTopology(base) if request.param == "services" else CrudMonolith(base)
    )
    system.start()
    try:
        yield system
    finally:
        if system.running:
            system.stop()


@pytest.fixture
def fresh_cqrskit(tmp_path: Path) -> Iterator[CqrskitProcess]:
    """A system of the test's own, free to stop and restart."""
    yield from running_cqrskit(tmp_path / "data", tmp_path)


class Shop:
    """HTTP clients for both services, plus the polling a client of an
    eventually consistent read side needs."""

    def __init__(self, system: CqrskitProcess) -> None:
        self.system = system
        self.command = httpx.Client(
            base_url=system.command_url, timeout=10.0, headers=ADMIN_HEADERS
        )
        self.query = httpx.Client(
            base_url=system.query_url, timeout=10.0, headers=ADMIN_HEADERS
        )

    def close(self) -> None:
        self.command.close()
        self.query.close()

    def read(self, path: str, token: str | None = None) -> Any:
        """A query's body; with a consistency token, read-your-writes."""
        headers = {"Consistency-Token": token} if token else {}
        answer = self.query.get(path, headers=headers)
        assert answer.status_code == 200, f"GET {path}: {answer.text}"
        return answer.json()

    def eventually(
        self,
        path: str,
        predicate: Callable[[Any], bool] = lambda _: True,
        timeout: float = POLL_TIMEOUT,
    ) -> Any:
        """Poll a query until it answers 200 with a body the predicate accepts."""
        return poll(lambda: self.query.get(path), predicate, timeout)

    def audit_trail(self, stream_id: str) -> list[dict[str, Any]]:
        answer = self.command.get(f"/streams/{stream_id}")
        assert answer.status_code == 200, answer.text
        events: list[dict[str, Any]] = answer.json()["events"]
        return events


def poll(
    fetch: Callable[[], httpx.Response],
    predicate: Callable[[Any], bool],
    timeout: float = POLL_TIMEOUT,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = fetch()
        if answer.status_code == 200 and predicate(body := answer.json()):
            return body
        if time.monotonic() > deadline:
            pytest.fail(
                f"{answer.request.url} did not get there in {timeout} s; "
                f"last answer {answer.status_code}: {answer.text}"
            )
        time.sleep(0.05)


@pytest.fixture(scope="module")
def shop(cqrskit: CqrskitProcess) -> Iterator[Shop]:
    client = Shop(cqrskit)
    yield client
    client.close()


@pytest.fixture
def fresh_shop(fresh_cqrskit: CqrskitProcess) -> Iterator[Shop]:
    client = Shop(fresh_cqrskit)
    yield client
    client.close()
