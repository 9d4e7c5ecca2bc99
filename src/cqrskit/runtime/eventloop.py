"""The event loop every cqrskit process runs on: uvloop where it is installed.

uvloop is a dependency on every platform it builds for (not Windows). The
standard asyncio loop costs a service a large share of its throughput on the
hot routes (docs/benchmarks.md); uvicorn picks uvloop by itself for `cqrskit
serve`, but `asyncio.run` never does, so the roles started through it (`cqrskit
run`, the relay, the projectors) come here instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop, or None (asyncio's own) where uvloop is not installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return None
    return uvloop.new_event_loop


def uvicorn_loop() -> str:
    """The `loop` setting that makes uvicorn use the same loop, named outright
    so that a missing uvloop shows in the setting rather than in the figures."""
    return "asyncio" if loop_factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop's loop when there is one."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
