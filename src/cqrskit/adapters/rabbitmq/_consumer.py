"""Consumes one partition queue: one batch at a time, acknowledged after the
handler returns.

A failing handler is retried here, in this process, with backoff: a nack with
requeue would let later batches overtake the failed one. On cancellation the
channel is closed without nacking anything, so the broker hands every unacked
batch, in delivery order, to the next active consumer. (aio-pika's queue
iterator nacks its prefetched messages one by one when it closes, which
reorders a quorum queue; hence the plain consumer with an inbox.)

Handing a partition on (see `cqrskit.core.sharing`) is the same close: the
batch in hand is finished and acked first, and only the channel's close makes
the queue activate its next consumer, so two consumers never apply the same
partition at once. The consumer then subscribes again, at the back of the line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from aiormq.exceptions import ChannelInvalidStateError

from cqrskit.core.ports import BatchHandler, Ownership
from cqrskit.core.wire import Delivered, decode_batch

log = logging.getLogger(__name__)

# aio-pika's own list of what a lost connection or channel raises; it includes
# RuntimeError (an operation on a closed channel or a connection being restored).
AMQP_ERRORS: tuple[type[BaseException], ...] = CONNECTION_EXCEPTIONS


@dataclass(frozen=True, slots=True)
class Backoff:
    first: float
    longest: float

    def after(self, delay: float) -> float:
        return min(delay * 2, self.longest)


class _Everything:
    """The ownership of a consumer that shares with nobody."""

    version = 0

    def owns(self, partition: int) -> bool:
        return True

    async def changed(self, since: int) -> None:
        await asyncio.Event().wait()

    def activity(self, partition: int, active: bool) -> None:
        return None


EVERYTHING: Ownership = _Everything()

_Inbox = asyncio.Queue["AbstractIncomingMessage | None"]
"""Deliveries, and None when the ownership changed (a moment to hand on)."""


class PartitionConsumer:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        queue_name: str,
        partition: int,
        handler: BatchHandler,
        *,
        prefetch: int,
        backoff: Backoff,
        on_subscribed: Callable[[int, bool], None],
        ownership: Ownership = EVERYTHING,
        rejoin_delay: float = 0.2,
    ) -> None:
        self._connection = connection
        self._queue_name = queue_name
        self._partition = partition
        self._handler = handler
        self._prefetch = prefetch
        self._backoff = backoff
        self._on_subscribed = on_subscribed
        self._ownership = ownership
        self._rejoin_delay = rejoin_delay
        self._handed_on_at: int | None = None
        """The ownership version at which this consumer last handed on."""

    async def run(self) -> None:
        """Consume until cancelled; a failed subscription is tried again, and
        a partition handed on is subscribed to again as a standby."""
        delay = self._backoff.first
        while True:
            try:
                await self._subscribe_and_handle()
            except AMQP_ERRORS as error:
                _raise_if_cancelling()
                log.warning(
                    "%s: cannot subscribe (%s); retrying in %.2fs",
                    self._queue_name,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = self._backoff.after(delay)
                continue
            _raise_if_cancelling()
            delay = self._backoff.first
            await asyncio.sleep(self._rejoin_delay)

    async def _subscribe_and_handle(self) -> None:
        """Subscribe and handle deliveries until it is time to hand on."""
        channel = await self._connection.channel(publisher_confirms=False)
        watcher: asyncio.Task[None] | None = None
        try:
            await channel.set_qos(prefetch_count=self._prefetch)
            queue = await channel.get_queue(self._queue_name, ensure=True)
            inbox: _Inbox = asyncio.Queue()
            # A robust queue re-subscribes this callback after a reconnection;
            # deliveries of the lost channel left in the inbox are then stale.
            await queue.consume(inbox.put)
            self._on_subscribed(self._partition, True)
            watcher = asyncio.create_task(self._watch_ownership(inbox))
            while True:
                _raise_if_cancelling()
                message = await inbox.get()
                if message is not None:
                    self._ownership.activity(self._partition, True)
                if self._hand_on():
                    break  # a delivery not handled yet goes back with the rest
                if message is not None:
                    await self._handle(message)
            self._handed_on_at = self._ownership.version
            log.info("%s: handing the partition on", self._queue_name)
        finally:
            if watcher is not None:
                watcher.cancel()
            self._on_subscribed(self._partition, False)
            await _close(channel)
            self._ownership.activity(self._partition, False)

    def _hand_on(self) -> bool:
        """Whether to hand the partition on now: it is not ours, and we have
        not handed it on yet since it was last shared out."""
        return (
            not self._ownership.owns(self._partition)
            and self._handed_on_at != self._ownership.version
        )

    async def _watch_ownership(self, inbox: _Inbox) -> None:
        version = self._ownership.version
        while True:
            await self._ownership.changed(version)
            version = self._ownership.version
            inbox.put_nowait(None)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        delay = self._backoff.first
        attempt = 1
        while not _stale(message):
            try:
                await self._handler(self._partition, _batch_of(message))
            except Exception:
                log.exception(
                    "%s: handler failed on batch %s (attempt %d); "
                    "retrying the same batch in %.2fs, later batches wait",
                    self._queue_name,
                    message.message_id,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = self._backoff.after(delay)
                attempt += 1
                continue
            await self._ack(message)
            return
        log.info(
            "%s: batch %s came on a lost channel; the broker delivers it again",
            self._queue_name,
            message.message_id,
        )

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        try:
            await message.ack()
        except AMQP_ERRORS as error:
            log.warning(
                "%s: could not ack batch %s (%s); it will be delivered again",
                self._queue_name,
                message.message_id,
                error,
            )


def _raise_if_cancelling() -> None:
    """Stop if this task was asked to: a driver may swallow a cancellation
    (turn it into a channel error, or lose it in a timeout racing it), and a
    consumer being stopped must not go on consuming."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _batch_of(message: AbstractIncomingMessage) -> Delivered:
    sent = message.headers.get("published_us")
    published_at = sent / 1e6 if isinstance(sent, int) else None
    return decode_batch(message.body, published_at)


def _stale(message: AbstractIncomingMessage) -> bool:
    """Whether the delivery's channel is gone (its ack would be refused)."""
    try:
        return message.channel.is_closed
    except ChannelInvalidStateError:
        return True


async def _close(channel: AbstractChannel) -> None:
    with contextlib.suppress(*AMQP_ERRORS):
        await channel.close()
