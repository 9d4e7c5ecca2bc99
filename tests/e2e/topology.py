"""The production topology for end-to-end tests: `cqrskit up` on the real
services, one process per role, each on fresh storage of its own (a new
PostgreSQL database, a Redis namespace, a RabbitMQ prefix)."""

from __future__ import annotations

import asyncio
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from credentials import process_env
from services import AMQP_URL, POSTGRES_URL, REDIS_URL, require

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
WORKER_PORTS = 5  # two relays (one on standby), two projectors, the console


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free ports, below the ephemeral range:
    a client polling a port there before its server listens can be given that
    very port as its own and connect to itself (it then reads its own request
    back as the answer)."""
    low = _ephemeral_low()
    for _ in range(100):
        first = random.randrange(10_000, max(low, 20_000) - count)
        if all(_free(first + i) for i in range(count)):
            return first
    raise RuntimeError("no run of free ports")


def _ephemeral_low() -> int:
    try:
        return int(
            Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]
        )
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _database_url(name: str, server: str = POSTGRES_URL) -> str:
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


async def _create_database(name: str, server: str = POSTGRES_URL) -> None:
    import asyncpg

    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_storage(system: ServicesTopology) -> None:
    import asyncpg

    from cqrskit.adapters.rabbitmq import drop_topology
    from cqrskit.adapters.redis import RedisReadStore

    name = system.token
    conn = await asyncpg.connect(system.postgres_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
    store = await RedisReadStore.open(system.redis_url, namespace=name)
    try:
        await store.purge()
    finally:
        await store.close()
    await drop_topology(system.amqp_url, prefix=name)


@dataclass
class ServicesTopology:
    """`cqrskit up` with its own storage; stopped with Ctrl-C like a person would.

    On the shared services by default; the fault suite points it at private
    instances of its own."""

    log_dir: Path
    postgres_url: str = POSTGRES_URL
    redis_url: str = REDIS_URL
    amqp_url: str = AMQP_URL
    token: str = field(default_factory=lambda: f"e2e{uuid.uuid4().hex[:10]}")
    command_port: int = 0
    query_port: int = 0
    extra_args: tuple[str, ...] = ()
    _proc: subprocess.Popen[bytes] | None = None
    _log: Path | None = None

    @property
    def command_url(self) -> str:
        return f"http://127.0.0.1:{self.command_port}"

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.query_port}"

    @property
    def running(self) -> bool:
        return self._proc is not None

    def env(self) -> dict[str, str]:
        return process_env(
            CQRSKIT_EVENT_STORE_URL=_database_url(self.token, self.postgres_url),
            CQRSKIT_READ_STORE_URL=f"{self.redis_url}?namespace={self.token}",
            CQRSKIT_BROKER_URL=f"{self.amqp_url}?prefix={self.token}",
        )

    def start(self) -> None:
        for url in (self.postgres_url, self.redis_url, self.amqp_url):
            require(url)
        asyncio.run(_create_database(self.token, self.postgres_url))
        first = free_port_run(2 + WORKER_PORTS)
        self.command_port, self.query_port = first, first + 1
        self._log = self.log_dir / "cqrskit-up.log"
        argv = [
            sys.executable, "-m", "cqrskit.entrypoints.cli", "up",
            "--command-port", str(self.command_port),
            "--query-port", str(self.query_port),
            "--first-worker-port", str(first + 2),
            "--query-workers", "2", "--projectors", "2",
            *self.extra_args,
        ]  # fmt: skip
        with self._log.open("wb") as out:
            self._proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=self.env()
            )
        self._wait_up()

    def _wait_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        assert self._proc is not None
        while "cqrskit is up" not in self.output():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"cqrskit up did not come up:\n{self.output()}")
            time.sleep(0.1)
        with httpx.Client(timeout=2.0) as client:
            for url in (self.command_url, self.query_url):
                assert client.get(f"{url}/readyz").status_code == 200

    def output(self) -> str:
        return self._log.read_text(errors="replace") if self._log else ""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def exit_code(self) -> int | None:
        """None while `cqrskit up` runs."""
        return self._proc.poll() if self._proc else None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        assert proc is not None
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"cqrskit up ignored Ctrl-C:\n{self.output()}")
        finally:
            asyncio.run(_drop_storage(self))
        assert code == 0, f"cqrskit up exited with {code}:\n{self.output()}"

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
            asyncio.run(_drop_storage(self))


def role_ports(system: ServicesTopology) -> dict[str, tuple[int, int]]:
    """Role name -> (port, pid), from the table `cqrskit up` prints."""
    roles = {}
    for name, port, pid in re.findall(
        r"^  (\S.*?)\s+http://[\d.]+:(\d+)\S*\s+pid (\d+)$", system.output(), re.M
    ):
        roles[name] = (int(port), int(pid))
    return roles


def metric(port: int, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, f"{name} not served on {port}"
    return float(match.group(1))


def restarted_pid(system: ServicesTopology, name: str, restart: int) -> int | None:
    """The pid `cqrskit up` printed when it started `name` again, if it has."""
    match = re.search(
        rf"^restarted the {re.escape(name)} \(pid (\d+), restart {restart}\)$",
        system.output(),
        re.M,
    )
    return int(match.group(1)) if match else None
