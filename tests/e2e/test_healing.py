"""Every process heals itself (DESIGN.md rule 10): started while its store is
down or full, it serves /healthz, answers 503 and waits; after a PostgreSQL
restart it carries on without a human. Each test runs on a PostgreSQL and a
Redis of its own (stopped and started at will) and a RabbitMQ prefix."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from harness import free_port
from private_services import PrivatePostgres, PrivateRedis, Role, wait_for

from credentials import ADMIN_HEADERS, process_env
from services import AMQP_URL, POSTGRES_URL, REDIS_URL, require

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
PROBLEM = "application/problem+json"


@dataclass
class Stack:
    postgres: PrivatePostgres
    redis: PrivateRedis
    prefix: str
    log_dir: Path

    def role(self, *args: str) -> Role:
        env = {
            "CQRSKIT_EVENT_STORE_URL": self.postgres.url,
            "CQRSKIT_READ_STORE_URL": self.redis.url,
            "CQRSKIT_BROKER_URL": f"{AMQP_URL}?prefix={self.prefix}",
        }
        if args[:2] == ("serve", "query"):  # DESIGN.md rule 5
            del env["CQRSKIT_EVENT_STORE_URL"]
        log = self.log_dir / f"{'-'.join(args)}.log"
        return Role(list(args), env, free_port(), log)

    def all_roles(self) -> list[Role]:
        kinds = [("serve", "command"), ("relay",), ("project",), ("serve", "query")]
        return [self.role(*kind) for kind in kinds]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    require(AMQP_URL)
    made = Stack(
        PrivatePostgres(free_port()),
        PrivateRedis(free_port()),
        f"heal{uuid.uuid4().hex[:10]}",
        tmp_path,
    )
    try:
        yield made
    finally:
        made.postgres.remove()
        made.redis.stop()
        from cqrskit.adapters.rabbitmq import drop_topology

        asyncio.run(drop_topology(AMQP_URL, prefix=made.prefix))


@pytest.fixture
def running() -> Iterator[list[Role]]:
    """Roles a test starts; all killed at the end."""
    roles: list[Role] = []
    yield roles
    for role in roles:
        role.kill()


def add_product(command: Role) -> httpx.Response:
    sku = f"H-{uuid.uuid4().hex[:8]}"
    body = {"sku": sku, "name": "Healing", "price_cents": 100}
    return httpx.post(
        f"{command.url}/products", json=body, timeout=10, headers=ADMIN_HEADERS
    )


def readable(query: Role, sku: str) -> None:
    wait_for(
        lambda: query.status(f"/products/{sku}") == 200,
        f"{sku} to reach the read side",
    )


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert int(answer.headers["retry-after"]) > 0


def test_roles_started_while_their_stores_are_down_wait_then_work(
    stack: Stack, running: list[Role]
) -> None:
    running.extend(stack.all_roles())
    command, _, _, query = running
    for role in running:
        role.start()
    for role in running:
        role.wait_status("/healthz", 200)
        assert role.status("/readyz") == 503, role.args
    assert_unavailable(add_product(command))
    assert_unavailable(httpx.get(f"{query.url}/products/X-1", timeout=10))

    stack.postgres.start()
    stack.redis.start()

    for role in running:
        role.wait_status("/readyz", 200)
    answer = add_product(command)
    assert answer.status_code == 201, answer.text
    readable(query, answer.json()["sku"])


def test_a_postgres_restart_heals_without_a_human(
    stack: Stack, running: list[Role]
) -> None:
    stack.postgres.start()
    stack.redis.start()
    running.extend(stack.all_roles())
    command, relay, _, query = running
    for role in running:
        role.start()
    for role in running:
        role.wait_status("/readyz", 200)
    readable(query, add_product(command).json()["sku"])

    statuses: list[int] = []
    stop = threading.Event()

    def keep_commanding() -> None:
        while not stop.is_set():
            statuses.append(add_product(command).status_code)

    load = threading.Thread(target=keep_commanding)
    load.start()
    try:
        stack.postgres.stop("fast")
        wait_for(lambda: 503 in statuses, "a 503 while PostgreSQL is down")
        stack.postgres.start()
        wait_for(lambda: statuses[-1:] == [201], "commands to be accepted again")
    finally:
        stop.set()
        load.join(timeout=30)

    assert set(statuses) <= {201, 503}, f"never a 500: {sorted(set(statuses))}"
    relay.wait_status("/readyz", 200)
    answer = add_product(command)
    assert answer.status_code == 201, answer.text
    readable(query, answer.json()["sku"])  # the relay publishes again


def test_a_command_service_waits_for_a_full_postgres(
    stack: Stack, running: list[Role]
) -> None:
    stack.postgres.settings.update(
        max_connections="3", superuser_reserved_connections="0"
    )
    stack.postgres.start()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)  # type: ignore[arg-type]

    fillers = [run(asyncpg.connect(stack.postgres.url)) for _ in range(3)]
    try:
        command = stack.role("serve", "command").start()
        running.append(command)
        command.wait_status("/healthz", 200)
        assert command.status("/readyz") == 503
        assert_unavailable(add_product(command))
    finally:
        for conn in fillers:
            run(conn.close())  # type: ignore[attr-defined]
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

    command.wait_status("/readyz", 200)
    assert add_product(command).status_code == 201


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["relay"], {"CQRSKIT_BROKER_URL": "kafka://127.0.0.1/"}, "no broker adapter"),
        (
            ["relay"],
            {
                "CQRSKIT_EVENT_STORE_URL": "postgresql://postgres@127.0.0.1:5432/cq_missing"
            },
            "does not exist",
        ),
        (
            ["project"],
            {"CQRSKIT_BROKER_URL": "amqp://guest:wrong@127.0.0.1:5672/"},
            "refused the credentials",
        ),
    ],
)
def test_a_misconfiguration_still_exits_with_a_clear_message(
    args: list[str], env: dict[str, str], says: str
) -> None:
    require(POSTGRES_URL)
    require(AMQP_URL)
    full = process_env(
        CQRSKIT_EVENT_STORE_URL=POSTGRES_URL,
        CQRSKIT_BROKER_URL=AMQP_URL,
        CQRSKIT_READ_STORE_URL=REDIS_URL,
    )
    full.update(env)
    argv = [sys.executable, "-m", "cqrskit.entrypoints.cli", *args]
    done = subprocess.run(
        [*argv, "--port", str(free_port())],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert says in done.stderr
