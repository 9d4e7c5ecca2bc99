"""What must hold after a fault: nothing acknowledged is lost, nothing is
applied twice, the read side equals a fresh fold of the event store, and it
catches up with the newest acknowledgement within a bound."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.core.messages import RecordedEvent
from credentials import ADMIN_HEADERS
from faults.load import Acked, Client, add_product

HEAL_BOUND = 60.0
VERIFY_TIMEOUT = 180.0
VERIFY_ATTEMPTS = 3


class NotHealed(Exception):
    """The read side did not reflect a new command within the bound."""


async def heal_time(
    client: Client, query_url: str, fault_end: float, bound: float = HEAL_BOUND
) -> float:
    """Seconds from the fault's end until a command sent after it is
    acknowledged and the query side reflects it and the newest
    acknowledgement of the load (read-your-writes with their tokens)."""
    give_up = fault_end + bound
    sku = f"PROBE-{uuid.uuid4().hex[:10]}"
    probe = await client.send(add_product(sku), deadline=bound)
    if probe is None:
        raise NotHealed(f"the probe command was not acknowledged in {bound} s")
    newest = next(ack for ack in reversed(client.tally.acks) if ack is not probe)
    async with httpx.AsyncClient(
        base_url=query_url, timeout=10.0, headers=ADMIN_HEADERS
    ) as query:
        for ack in (probe, newest):
            await _read_your_write(query, f"/products/{sku}", ack.token, give_up)
    return time.monotonic() - fault_end


async def _read_your_write(
    query: httpx.AsyncClient, path: str, token: str, give_up: float
) -> Any:
    """The body of a read with a consistency token; a 503 or a lost
    connection is retried, as a client would, until `give_up`."""
    last = "no answer"
    while time.monotonic() < give_up:
        try:
            answer = await query.get(path, headers={"Consistency-Token": token})
        except httpx.TransportError as e:
            last = repr(e)
        else:
            if answer.status_code == 200:
                return answer.json()
            last = f"{answer.status_code} {answer.text[:200]}"
        await asyncio.sleep(0.1)
    raise NotHealed(f"GET {path} with the token did not answer 200; last: {last}")


def written_streams(acks: Iterable[Acked]) -> list[str]:
    return sorted({sid for ack in acks for sid, _ in ack.written()})


async def stored_streams(
    event_store_url: str, stream_ids: list[str]
) -> dict[str, list[RecordedEvent]]:
    """The streams as the event store holds them, read through its adapter."""
    store = await PostgresEventStore.open(event_store_url, pool_size=4)
    limit = asyncio.Semaphore(4)

    async def one(stream_id: str) -> list[RecordedEvent]:
        async with limit:
            return await store.read_stream(stream_id)

    try:
        found = await asyncio.gather(*(one(sid) for sid in stream_ids))
    finally:
        await store.close()
    return dict(zip(stream_ids, found, strict=True))


def lost_acks(
    acks: Iterable[Acked], streams: dict[str, list[RecordedEvent]]
) -> list[str]:
    """Acknowledged writes the event store does not hold (must be none): each
    written stream reaches the acknowledged version, and the primary event
    sits at the acknowledged position."""
    lost = []
    for ack in acks:
        for sid, version in ack.written():
            if len(streams[sid]) < version:
                lost.append(f"{sid}@{version}: acknowledged, not stored")
        events = streams[ack.stream_id]
        if (
            len(events) >= ack.version
            and (stored := events[ack.version - 1].position) != ack.position
        ):
            lost.append(
                f"{ack.stream_id}@{ack.version}: acknowledged at position "
                f"{ack.position}, stored at {stored}"
            )
    return lost


def stored_stock_differences(
    streams: dict[str, list[RecordedEvent]], expected: Counter[str]
) -> list[str]:
    """SKUs whose stock folded from the event store is not what the acks say
    (an event appended twice, or one missing)."""
    sign = {"StockAdded": 1, "StockReserved": -1, "StockReleased": 1}
    differences = []
    for sku, units in sorted(expected.items()):
        events = streams.get(f"inventory-{sku}", [])
        folded = sum(sign.get(e.type, 0) * int(e.data["quantity"]) for e in events)
        if folded != units:
            differences.append(
                f"{sku}: the event store folds to {folded}, acks {units}"
            )
    return differences


def expected_stock(acks: Iterable[Acked]) -> Counter[str]:
    """Available units per SKU as the acknowledgements say: restocked minus
    what acknowledged orders reserved (nothing here releases stock)."""
    stock: Counter[str] = Counter()
    carts: dict[str, Counter[str]] = {}
    orders: list[str] = []
    for ack in acks:
        body = ack.request["body"] or {}
        path = ack.request["path"]
        if ack.kind == "Restock":
            stock[path.split("/")[2]] += body["quantity"]
        elif ack.kind == "AddItem":
            carts.setdefault(path.split("/")[2], Counter())[body["sku"]] += body[
                "quantity"
            ]
        elif ack.kind == "PlaceOrder":
            orders.append(body["cart_id"])
    for cart_id in orders:
        stock.subtract(carts.get(cart_id, Counter()))
    return stock


async def stock_differences(
    query_url: str, expected: Counter[str], acks: list[Acked]
) -> list[str]:
    """SKUs whose live stock on the query side is not what the acks say, read
    with the token of the newest ack that touched each SKU's stock."""
    tokens = {
        sid.removeprefix("inventory-"): ack.token
        for ack in acks
        for sid, _ in ack.written()
        if sid.startswith("inventory-")
    }
    differences = []
    give_up = time.monotonic() + HEAL_BOUND
    async with httpx.AsyncClient(
        base_url=query_url, timeout=30.0, headers=ADMIN_HEADERS
    ) as query:
        for sku, units in sorted(expected.items()):
            try:
                product = await _read_your_write(
                    query, f"/products/{sku}", tokens[sku], give_up
                )
            except NotHealed as e:
                differences.append(f"{sku}: {e}")
                continue
            if (available := product["available"]) != units:
                differences.append(f"{sku}: available {available}, acks say {units}")
    return differences


def run_cli(env: dict[str, str], *args: str, timeout: float) -> tuple[int, str]:
    """A `cqrskit` subcommand on the topology's stores: exit code, output."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cqrskit.entrypoints.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        output = [
            x.decode() if isinstance(x, bytes) else x for x in (e.stdout, e.stderr)
        ]
        return -1, f"timed out after {timeout} s: {''.join(filter(None, output))}"
    return done.returncode, done.stdout + done.stderr


def verify_differences(code: int, output: str) -> int:
    """`cqrskit verify` ends with `NAMES: N differences` (or `clean`) and
    exits 1 when it found any."""
    if code == 0:
        return 0
    found = re.findall(r": (\d+) differences?$", output, re.M)
    return int(found[-1]) if found else 1


async def verify(run: Callable[[], Awaitable[tuple[int, str]]]) -> tuple[int, str]:
    """Run `cqrskit verify`, again when a projector broke its pause (exit 3:
    it says to verify again)."""
    for _ in range(VERIFY_ATTEMPTS):
        code, output = await run()
        if code != 3:
            break
    return code, output
