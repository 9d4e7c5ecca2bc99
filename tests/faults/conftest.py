"""Fixtures of the fault suite: private services for the whole session, a
fresh `cqrskit up` on them per scenario, and the results file written when
the session ends (`python tests/faults/report.py` turns it into
docs/reliability.md)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from private_services import PrivatePostgres, PrivateRabbitMq, PrivateRedis, listening
from topology import ServicesTopology, free_port_run

from cqrskit.runtime.progress import Countdown
from faults.load import Load
from faults.processes import cmdline, descendants
from faults.runner import Faulted, PrivateServices, Tick

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(os.environ.get("CQRSKIT_FAULTS_RESULTS", ROOT / "faults-results.json"))
REPETITIONS = int(os.environ.get("CQRSKIT_FAULTS_REPETITIONS", "2"))


@pytest.fixture(scope="session")
def private_services() -> Iterator[PrivateServices]:
    """PostgreSQL, Redis and RabbitMQ of our own, on spare ports, started
    once for the session; whatever happens, all stopped (by PID as a last
    resort) and their files removed."""
    port = free_port_run(4)  # below the ephemeral range, as the roles' ports
    services = PrivateServices(
        PrivatePostgres(port, {"max_connections": "200"}),
        PrivateRedis(port + 1),
        PrivateRabbitMq(port + 2, port + 3),
    )
    try:
        services.postgres.start()
        services.redis.start()
        services.rabbitmq.start()
        yield services
    finally:
        services.rabbitmq.remove()
        services.redis.stop()
        services.postgres.remove()


def _ensure_up(services: PrivateServices) -> None:
    """A scenario that failed half way may leave a service stopped."""
    if not listening(services.redis.port):
        services.redis.stop()
        services.redis.start()
    if not listening(services.rabbitmq.port):
        services.rabbitmq.stop()
        services.rabbitmq.start()
    if not listening(services.postgres.port):
        services.postgres.stop("immediate")
        services.postgres.start()


@pytest.fixture
def faulted(private_services: PrivateServices, tmp_path: Path) -> Iterator[Faulted]:
    """`cqrskit up` (command service, query service with 2 workers, two
    relays, two projectors) on the private services."""
    _ensure_up(private_services)
    system = ServicesTopology(
        tmp_path,
        postgres_url=private_services.postgres.url,
        redis_url=private_services.redis.url,
        amqp_url=private_services.rabbitmq.url,
    )
    system.start()
    assert system.pid is not None
    up_pid = system.pid
    try:
        yield Faulted(system, private_services)
    finally:
        roles = descendants(up_pid)
        _ensure_up(private_services)
        try:
            _stop(system)
        finally:
            for pid in roles:  # a role that outlived `cqrskit up`
                if "cqrskit.entrypoints.cli" in " ".join(cmdline(pid)):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)


def _stop(system: ServicesTopology) -> None:
    if system.exit_code() is None:
        system.stop()
    else:
        system.kill()  # it already ended; the scenario has said so


@pytest.fixture(scope="session")
def record(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Collects each scenario's result; writes them all when the session
    ends, if any scenario ran."""
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    yield results.append
    if results:
        args = " ".join(request.config.invocation_params.args)
        facts = _run_facts(results, time.monotonic() - started, f"pytest {args}")
        RESULTS.write_text(json.dumps(facts, indent=2) + "\n")


def _run_facts(
    results: list[dict[str, Any]], seconds: float, command: str
) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "command": command.strip(),
        "seconds": round(seconds),
        "load": {"clients": Load.clients, "commands_per_second": Load.rate},
        "repetitions": REPETITIONS,
        "scenarios": results,
    }


@pytest.fixture
def repetitions() -> int:
    return REPETITIONS


@pytest.fixture(scope="session")
def progress(request: pytest.FixtureRequest) -> Iterator[Tick]:
    """The suite's progress, by repetition: a bar with the total and the
    time left redrawn on a terminal, a plain line per step otherwise. It
    writes past pytest's capture, as pytest's own report does."""
    selected = [i for i in request.session.items if i.get_closest_marker("faults")]
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def uncaptured() -> contextlib.AbstractContextManager[object]:
        if capture is None:
            return contextlib.nullcontext()
        return capture.global_and_fixture_disabled()  # type: ignore[no-any-return]

    def write(text: str) -> None:
        with uncaptured():
            sys.stdout.write(text)
            sys.stdout.flush()

    with uncaptured():
        live = sys.stdout.isatty()
    countdown = Countdown(
        len(selected) * REPETITIONS,
        lambda line: write(f"\nfaults {line.strip()}\n"),
        live=live,
        draw=write,
    )
    yield lambda what, steps: countdown.step(what, steps)
    countdown.finish()
