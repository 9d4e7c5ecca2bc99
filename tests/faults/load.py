"""A steady load of shoppers and restocks, as a real client would send them.

Every command carries an Idempotency-Key; a 5xx answer or a lost connection
is retried with capped, jittered backoff under the same key, so a retry can
never apply a command twice. Each acknowledgement (2xx with
`{stream_id, version, position}`) is recorded with what the command asked
for, which is what the checks afterwards compare the system against.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from cqrskit.core.consistency import parse_token
from cqrskit.runtime.settings import Settings
from credentials import ADMIN_HEADERS, process_env

APPROVE = {"card_number": "4242424242424242", "expiry": "12/2099", "cvc": "123"}
RETRIED = {500, 502, 503, 504}
COMMAND_DEADLINE = 90.0
"""How long one command is retried before the client gives up on it (an
outage of the scenarios here is far shorter)."""
SETTLE_AFTER_ABORT = 15.0
TOKEN_KEY = Settings.from_env(process_env()).hmac_key()
"""The key the started services sign consistency tokens with."""


@dataclass(frozen=True)
class Acked:
    """One acknowledged command and what it asked for."""

    kind: str
    stream_id: str
    version: int
    position: int
    token: str
    request: dict[str, Any]
    at: float

    def written(self) -> list[tuple[str, int]]:
        """Every stream the command wrote and the version it reached, as its
        consistency token names them."""
        return parse_token(self.token, TOKEN_KEY)


@dataclass(frozen=True)
class Command:
    kind: str
    method: str
    path: str
    body: dict[str, Any] | None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class Tally:
    acks: list[Acked] = field(default_factory=list)
    failed: Counter[str] = field(default_factory=Counter)
    """Final answers other than an acknowledgement, by status."""
    retried: Counter[str] = field(default_factory=Counter)
    """Answers that were retried (5xx, lost connections), by status."""
    unresolved: list[Command] = field(default_factory=list)
    in_flight: int = 0
    refused_after_retry: list[str] = field(default_factory=list)
    """Refusals that followed a 5xx or a lost connection: the first try may
    have been applied, so the refusal deserves a look."""

    def refused(
        self, command: Command, answer: httpx.Response, first_try: bool
    ) -> None:
        self.failed[str(answer.status_code)] += 1
        if not first_try:
            detail = answer.text[:300]
            self.refused_after_retry.append(
                f"{command.kind} {command.path}: {answer.status_code} {detail}"
            )


class Client:
    """Sends commands with retries; shared by the load and the probes."""

    def __init__(self, command_url: str, tally: Tally) -> None:
        self.http = httpx.AsyncClient(
            base_url=command_url, timeout=10.0, headers=ADMIN_HEADERS
        )
        self.tally = tally

    async def close(self) -> None:
        await self.http.aclose()

    async def send(
        self,
        command: Command,
        deadline: float = COMMAND_DEADLINE,
        *,
        again: bool = False,
    ) -> Acked | None:
        """The command's ack, or None (a refusal, or unresolved in time).
        `again`: the command was sent before without an answer."""
        tally = self.tally
        tally.in_flight += 1
        try:
            return await self._send(command, time.monotonic() + deadline, again)
        except asyncio.CancelledError:
            tally.unresolved.append(command)  # it may or may not have applied
            raise
        finally:
            tally.in_flight -= 1

    async def _send(
        self, command: Command, give_up: float, again: bool
    ) -> Acked | None:
        backoff, first_try = 0.05, not again
        while True:
            answer = await self._attempt(command)
            if isinstance(answer, Acked):
                self.tally.acks.append(answer)
                return answer
            status = answer if isinstance(answer, str) else answer.status_code
            if status not in RETRIED and status != "connection":
                assert isinstance(answer, httpx.Response)
                self.tally.refused(command, answer, first_try)
                return None
            self.tally.retried[str(status)] += 1
            if time.monotonic() > give_up:
                self.tally.unresolved.append(command)
                return None
            first_try = False
            await asyncio.sleep(random.uniform(0, backoff))
            backoff = min(backoff * 2, 2.0)

    async def _attempt(self, command: Command) -> Acked | httpx.Response | str:
        try:
            answer = await self.http.request(
                command.method,
                command.path,
                json=command.body,
                headers={"Idempotency-Key": command.key},
            )
        except httpx.TransportError:
            return "connection"
        if not answer.is_success:
            return answer
        body = answer.json()
        return Acked(
            command.kind,
            body["stream_id"],
            body["version"],
            body["position"],
            body["consistency_token"],
            {"path": command.path, "body": command.body},
            time.monotonic(),
        )


def add_product(sku: str) -> Command:
    body = {"sku": sku, "name": f"Fault {sku}", "price_cents": 250}
    return Command("AddProduct", "POST", "/products", body)


def restock(sku: str, quantity: int) -> Command:
    body = {"quantity": quantity}
    return Command("Restock", "POST", f"/inventory/{sku}/restock", body)


@dataclass
class Load:
    """`clients` shoppers sending about `rate` commands a second in all."""

    command_url: str
    skus: list[str]
    clients: int = 12
    rate: float = 80.0
    tally: Tally = field(default_factory=Tally)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _client: Client | None = None

    @property
    def client(self) -> Client:
        assert self._client is not None, "the load has not started"
        return self._client

    async def start(self, first: list[Command]) -> None:
        """Send `first` (the catalog the shoppers buy from), then start the
        shoppers."""
        self._client = Client(self.command_url, self.tally)
        for command in first:
            assert await self.client.send(command), f"{command} was refused"
        self._tasks = [
            asyncio.create_task(self._shopper(n)) for n in range(self.clients)
        ]

    async def stop(self) -> None:
        """Let every shopper finish the command it is on (bounded by its
        deadline), then settle commands left unresolved."""
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self.settle()

    async def abort(self) -> None:
        """Stop at once (the system did not heal: waiting helps nobody), then
        give the commands cut short a brief chance to get their answer."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(1.0)  # as a client backs off before it retries
        await self.settle(deadline=SETTLE_AFTER_ABORT)

    async def settle(self, deadline: float = COMMAND_DEADLINE) -> None:
        """Send unresolved commands again, under their own keys: each was
        applied once or not at all, and now gets its answer."""
        pending, self.tally.unresolved = self.tally.unresolved, []
        await asyncio.gather(
            *(self.client.send(c, deadline, again=True) for c in pending)
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def _pause(self) -> None:
        await asyncio.sleep(random.uniform(0.5, 1.5) * self.clients / self.rate)

    async def _shopper(self, n: int) -> None:
        prefix = f"{n}-{uuid.uuid4().hex[:8]}"
        journey = 0
        while not self._stop.is_set():
            journey += 1
            if random.random() < 0.25:
                await self.client.send(
                    restock(random.choice(self.skus), random.randint(1, 5))
                )
                await self._pause()
            else:
                await self._journey(f"{prefix}-{journey}")

    async def _journey(self, name: str) -> None:
        """A cart, one or two items, an order paid with the approving card."""
        cart = Command(
            "CreateCart", "POST", "/carts", {"customer_id": f"c{name}", "cart_id": name}
        )
        if await self.client.send(cart) is None:
            return
        await self._pause()
        for sku in random.sample(self.skus, random.randint(1, 2)):
            item = {"sku": sku, "quantity": random.randint(1, 2)}
            await self.client.send(
                Command("AddItem", "POST", f"/carts/{name}/items", item)
            )
            await self._pause()
        order = {"cart_id": name, "order_id": name, "payment": APPROVE}
        await self.client.send(Command("PlaceOrder", "POST", "/orders", order))
        await self._pause()
