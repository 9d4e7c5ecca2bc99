"""The background roles as processes: the relay and the projector.

Each serves /healthz, /readyz and /metrics on its own port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Gauge

from cqrskit.entrypoints.http.metrics import new_registry
from cqrskit.entrypoints.http.ops import add_ops_routes
from cqrskit.runtime import adapters, bootstrap
from cqrskit.runtime.servers import Servers
from cqrskit.runtime.settings import Settings

log = logging.getLogger(__name__)


class NeedsDurableBroker(ValueError):
    pass


def _ops_app(
    title: str, ready: Callable[[], Awaitable[bool]], registry: CollectorRegistry
) -> FastAPI:
    app = FastAPI(title=title, openapi_url=None)
    add_ops_routes(app, ready, registry)
    return app


async def _serve_until_stopped(
    work: Awaitable[None], app: FastAPI, host: str, port: int
) -> None:
    servers = Servers([(app, host, port)])
    worker = asyncio.ensure_future(work)
    serving = asyncio.create_task(servers.serve())
    done, _ = await asyncio.wait({worker, serving}, return_when=asyncio.FIRST_COMPLETED)
    servers.stop()
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    await serving
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def run_relay(settings: Settings, host: str, port: int) -> None:
    """Publish the log to the broker while holding the relay lease; a standby
    waits for the lease and takes over when the active relay dies."""
    if settings.broker_url.startswith("memory://"):
        raise NeedsDurableBroker(
            "a relay process needs a broker other processes reach (amqp://)"
        )
    store = await adapters.open_event_store(settings.event_store_url)
    broker = await adapters.open_broker(settings.broker_url, settings.partitions)
    lease = adapters.open_lease(settings.event_store_url, "relay")
    registry = new_registry()
    active = Gauge(
        "cqrskit_relay_active", "1 while this relay holds the lease", registry=registry
    )
    published = Gauge(
        "cqrskit_relay_published_events",
        "Events published since start",
        registry=registry,
    )
    relay = bootstrap.relay(store, broker)

    async def work() -> None:
        log.info("relay waiting for the lease")
        await lease.acquire()
        active.set(1)
        log.info("relay active")
        task = asyncio.create_task(relay.run())
        try:
            while not task.done():
                await asyncio.sleep(1)
                published.set(relay.published)
                if not await lease.check():
                    log.error("relay lost its lease; stopping")
                    raise RuntimeError("relay lease lost")
            await task
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            active.set(0)
            await lease.release()

    async def ready() -> bool:
        return True

    try:
        await _serve_until_stopped(
            work(), _ops_app("cqrskit relay", ready, registry), host, port
        )
    finally:
        await broker.close()
        await store.close()


def _reading(source: object, attribute: str) -> Callable[[], float]:
    return lambda: float(getattr(source, attribute))


async def run_projector(
    settings: Settings,
    host: str,
    port: int,
    *,
    gap_fill: bool,
    member: tuple[int, int] = (1, 1),
) -> None:
    """Apply the partitions this process is given (single active consumer per
    partition); another projector takes them over when this one dies."""
    if settings.broker_url.startswith("memory://"):
        raise NeedsDurableBroker(
            "a projector process needs a broker other processes reach (amqp://)"
        )
    index, members = member
    share = [p for p in range(settings.partitions) if p % members == index - 1]
    read_store = await adapters.open_read_store(settings.read_store_url)
    broker = await adapters.open_broker(settings.broker_url, settings.partitions)
    event_store = (
        await adapters.open_event_store(settings.event_store_url) if gap_fill else None
    )
    projector = bootstrap.projector_side(
        read_store, event_store, max_failures=settings.max_failures
    )
    registry = new_registry()
    for name, doc in [
        ("applied", "Events applied to read models"),
        ("duplicates", "Duplicate deliveries ignored"),
        ("gaps_filled", "Events fetched from the event store to fill a gap"),
    ]:
        gauge = Gauge(f"cqrskit_projector_{name}", doc, registry=registry)
        gauge.set_function(_reading(projector.runner, name))

    async def ready() -> bool:
        await read_store.get("readyz")
        return True

    try:
        app = _ops_app("cqrskit projector", ready, registry)
        await _serve_until_stopped(
            broker.consume(projector.runner.handle, preferred=share),
            app,
            host,
            port,
        )
    finally:
        await broker.close()
        if event_store is not None:
            await event_store.close()
        await read_store.close()
