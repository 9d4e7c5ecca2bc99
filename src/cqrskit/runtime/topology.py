"""`cqrskit up`: a local multi-process topology on the real services.

It supervises its roles: a role that dies, whichever it is, is started again
after a backoff (0.5 s doubling to 30 s, back to 0.5 s once it has stayed up
for a minute); the others never stop for it. Ctrl-C or SIGTERM stops all.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from cqrskit.runtime.redaction import masked as masked  # `cqrskit up` prints it

RESTART_FIRST = 0.5
RESTART_CAP = 30.0
STEADY = 60.0
"""A role up this long has its restart delay reset."""
LOCAL_SERVICES = {
    "CQRSKIT_EVENT_STORE_URL": "postgresql://postgres@127.0.0.1:5432/cqrskit",
    "CQRSKIT_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/",
    "CQRSKIT_READ_STORE_URL": "redis://127.0.0.1:6379/0",
}


@dataclass
class Role:
    name: str
    args: list[str]
    port: int
    env: dict[str, str]
    path: str = ""
    """Where a person opens it (the console's page)."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    restarts: int = 0
    delay: float = RESTART_FIRST
    """How long to wait before the next restart."""
    due: float | None = None
    """When a dead role is to be started again."""

    def start(self) -> None:
        command = [sys.executable, "-m", "cqrskit.entrypoints.cli", *self.args]
        self.process = subprocess.Popen(command, env=self.env)
        self.started_at = time.monotonic()

    def healthy(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/healthz"
            with urllib.request.urlopen(url, timeout=1) as answer:
                return bool(answer.status == 200)
        except (OSError, http.client.HTTPException):
            # HTTPException: before the role listens, a probe from an
            # ephemeral port can connect to itself and read its own request.
            return False


def topology_env(base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    for key, default in LOCAL_SERVICES.items():
        env.setdefault(key, default)
    return env


@dataclass(frozen=True)
class Layout:
    """Where `cqrskit up` puts its roles, and how many of each."""

    host: str
    command_port: int
    query_port: int
    query_workers: int
    projectors: int
    standby: bool
    first_port: int
    """Relays, projectors and the console take ports from here up."""


def roles(env: dict[str, str], layout: Layout) -> list[Role]:
    return [*_services(env, layout), *_workers(env, layout)]


def _services(env: dict[str, str], layout: Layout) -> list[Role]:
    # The query service is given the read store only; the command service the
    # event store only (DESIGN.md rule 5).
    write_env = {k: v for k, v in env.items() if k != "CQRSKIT_READ_STORE_URL"}
    read_env = {k: v for k, v in env.items() if k != "CQRSKIT_EVENT_STORE_URL"}
    host, workers = layout.host, layout.query_workers
    command = ["serve", "command", "--host", host, "--port", str(layout.command_port)]
    query = ["serve", "query", "--host", host, "--port", str(layout.query_port)]
    return [
        Role("command service", command, layout.command_port, write_env),
        Role(
            f"query service ({workers} workers)",
            [*query, "--workers", str(workers)],
            layout.query_port,
            read_env,
        ),
    ]


def _workers(env: dict[str, str], layout: Layout) -> list[Role]:
    """The relay (and its standby), the projectors and the console (which
    reads both stores, so it is no part of the query service), one port each."""
    relays = ["relay", "relay (standby)"] if layout.standby else ["relay"]
    wanted: list[tuple[str, list[str], list[str]]] = [
        *((name, ["relay"], []) for name in relays),
        *(
            (f"projector {n}", ["project"], ["--name", f"projector-{n}"])
            for n in range(1, layout.projectors + 1)
        ),
        ("console", ["serve", "console"], []),
    ]
    return [
        Role(
            name,
            [*verb, "--host", layout.host, "--port", str(port), *extra],
            port,
            env,
            "/console/" if name == "console" else "",
        )
        for port, (name, verb, extra) in enumerate(wanted, start=layout.first_port)
    ]


def ensure_database(url: str) -> None:
    """Create the event store's PostgreSQL database if it does not exist yet,
    waiting (capped, jittered backoff) while PostgreSQL is down or full."""
    import asyncio

    import asyncpg

    from cqrskit.adapters.postgres._database import quote_ident, translate_errors
    from cqrskit.core.backoff import until_available

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "postgres"
    admin = urlunsplit(parts._replace(path="/postgres"))

    async def create() -> None:
        with translate_errors():
            conn = await asyncpg.connect(admin, timeout=5)
            try:
                exists = await conn.fetchval(
                    "SELECT 1 FROM pg_database WHERE datname = $1", name
                )
                if not exists:
                    await conn.execute(f"CREATE DATABASE {quote_ident(name)}")
            finally:
                await conn.close()

    asyncio.run(until_available(create, "PostgreSQL (creating the database)"))


def stop_all(started: list[Role], grace: float = 10.0) -> None:
    for role in started:
        if role.process and role.process.poll() is None:
            role.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for role in started:
        if role.process is None:
            continue
        try:
            role.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            role.process.kill()
            role.process.wait()


def wait_healthy(started: list[Role], timeout: float = 60.0) -> list[Role]:
    """The roles that did not become healthy in time (or died)."""
    deadline = time.monotonic() + timeout
    pending = list(started)
    while pending and time.monotonic() < deadline:
        pending = [
            r
            for r in pending
            if not r.healthy() and r.process and r.process.poll() is None
        ]
        time.sleep(0.2)
    return [r for r in started if not r.healthy()]


def supervise(started: list[Role]) -> int:
    """Restart roles that die until Ctrl-C/SIGTERM; return an exit code."""
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping:
        for role in started:
            tend(role, time.monotonic())
        time.sleep(0.2)
    return 0


def tend(role: Role, now: float) -> None:
    """Start `role` again when it is due; schedule it when it has just died."""
    if role.due is not None:
        if now >= role.due:
            role.due = None
            role.restarts += 1
            role.start()
            pid = role.process.pid if role.process else "-"
            print(
                f"restarted the {role.name} (pid {pid}, restart {role.restarts})",
                flush=True,
            )
        return
    code = role.process.poll() if role.process else None
    if code is None:
        if now - role.started_at >= STEADY:
            role.delay = RESTART_FIRST
        return
    print(
        f"the {role.name} ended (exit {code}); starting it again in {role.delay:.1f}s",
        flush=True,
    )
    role.due = now + role.delay
    role.delay = min(role.delay * 2, RESTART_CAP)


def environment() -> dict[str, str]:
    return topology_env(os.environ)
