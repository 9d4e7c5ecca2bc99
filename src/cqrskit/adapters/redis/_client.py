"""One way to open a redis-py client, so every Redis adapter heals the same.

redis-py retries a command only for the errors named in `retry_on_error`, and
names none by default: after a Redis restart each pooled connection would fail
its first command ("Connection closed by server") before being replaced. Here a
dropped or timed-out connection is retried on a fresh one, quickly, a few
times; what still fails is the adapter's StoreUnavailable. Retrying a commit
script is safe: its version guard refuses a batch that already landed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis.asyncio as redis
from redis import exceptions as rx
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, TimeoutError

from cqrskit.core.errors import StoreUnavailable

# Errors about the server's condition, not about the request.
UNAVAILABLE = (
    rx.ConnectionError,
    rx.TimeoutError,
    rx.ReadOnlyError,
    rx.OutOfMemoryError,
    OSError,
)


def connect(url: str, *, decode_responses: bool) -> redis.Redis:
    """A client for `url` (settings in the URL's query win over these)."""
    return redis.Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_connect_timeout=5.0,
        socket_timeout=5.0,
        health_check_interval=30,
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.5), retries=3),
        retry_on_error=[ConnectionError, TimeoutError],
    )


@contextmanager
def translate_errors() -> Iterator[None]:
    try:
        yield
    except UNAVAILABLE as e:
        raise StoreUnavailable(f"Redis cannot serve: {e}") from e
