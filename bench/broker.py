"""Broker throughput through RabbitMqBus, 1, 10 and 100 events per message,
side by side in one run.

    .venv/bin/python bench/broker.py [--url URL] [--events N] [--queue-type T]

For each batch size, on queues of their own (deleted at the end), three runs of
N events each:
- publish: as the relay does, per round one batch per partition, published at
  once, each awaited until the broker confirms it; nobody consumes;
- consume: the consumer drains that backlog (decode included, the handler
  only counts);
- both: publisher and consumer at once, timed until the last batch is handled.
Publisher and consumer share this one process and event loop, as in
`cqrskit run`; in production they are separate processes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime

from cqrskit.adapters.rabbitmq import QueueType, RabbitMqBus, drop_topology
from cqrskit.core.messages import Metadata, RecordedEvent

BATCH_SIZES = (1, 10, 100)
Round = dict[int, list[RecordedEvent]]


def rounds(events: int, batch_size: int, partitions: int) -> list[Round]:
    """Batches of `batch_size` events, one per partition per round."""
    positions = itertools.count(1)
    per_round = batch_size * partitions
    return [
        {
            p: [shop_event(next(positions), p) for _ in range(batch_size)]
            for p in range(partitions)
        }
        for _ in range(max(1, events // per_round))
    ]


def shop_event(position: int, partition: int) -> RecordedEvent:
    return RecordedEvent(
        stream_id=f"cart-{partition}",
        version=position,
        position=position,
        type="ItemAdded",
        data={"sku": f"SKU-{position % 1000:05}", "quantity": 2, "price_cents": 1299},
        recorded_at=datetime.now(UTC),
        metadata=Metadata(
            command_id=uuid.uuid4().hex,
            correlation_id=uuid.uuid4().hex,
            causation_id=uuid.uuid4().hex,
        ),
    )


class Counter:
    def __init__(self, target: int) -> None:
        self.events = 0
        self._target = target
        self.done = asyncio.Event()

    async def __call__(self, partition: int, events: Sequence[RecordedEvent]) -> None:
        self.events += len(events)
        if self.events >= self._target:
            self.done.set()


async def publish(bus: RabbitMqBus, work: list[Round]) -> None:
    for batches in work:
        await asyncio.gather(*(bus.publish(p, b) for p, b in batches.items()))


async def consume(bus: RabbitMqBus, target: int) -> None:
    counter = Counter(target)
    consumer = asyncio.create_task(bus.consume(counter))
    try:
        await counter.done.wait()
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)


async def timed(*steps: Awaitable[None]) -> float:
    started = time.perf_counter()
    await asyncio.gather(*steps)
    return time.perf_counter() - started


async def measure(
    url: str, batch_size: int, events: int, partitions: int, queue_type: QueueType
) -> dict[str, float]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    bus = await RabbitMqBus.open(
        url, partitions=partitions, prefix=prefix, queue_type=queue_type
    )
    try:
        work = rounds(events, batch_size, partitions)
        total = sum(len(b) for batches in work for b in batches.values())
        publishing = await timed(publish(bus, work))
        consuming = await timed(consume(bus, total))
        work = rounds(events, batch_size, partitions)
        both = await timed(consume(bus, total), publish(bus, work))
    finally:
        await bus.close()
        await drop_topology(url, prefix=prefix, partitions=partitions)
    return {"events": total, "publish": publishing, "consume": consuming, "both": both}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--queue-type", choices=("quorum", "classic"), default="quorum")
    args = parser.parse_args()
    print(
        f"{args.events} events per run, {args.partitions} partitions, "
        f"{args.queue_type} queues, persistent messages, publisher confirms"
    )
    header = ("batch", "msgs", "publish ev/s", "msg/s", "consume ev/s", "msg/s")
    print(("{:>6} {:>7}" + " {:>13} {:>7}" * 3).format(*header, "both ev/s", "msg/s"))
    for batch_size in BATCH_SIZES:
        result = await measure(
            args.url, batch_size, args.events, args.partitions, args.queue_type
        )
        messages = result["events"] / batch_size
        cells: list[str] = [f"{batch_size:>6}", f"{messages:>7.0f}"]
        for run in ("publish", "consume", "both"):
            seconds = result[run]
            cells.append(f"{result['events'] / seconds:>13,.0f}")
            cells.append(f"{messages / seconds:>7,.0f}")
        print(" ".join(cells))


if __name__ == "__main__":
    asyncio.run(main())
