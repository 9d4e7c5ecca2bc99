"""The roles started through `asyncio.run`-style entry points run on uvloop."""

from __future__ import annotations

import asyncio

import uvloop

from cqrskit.runtime import eventloop


async def _loop_type() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_run_uses_uvloop_and_returns_the_result() -> None:
    assert eventloop.run(_loop_type()) is uvloop.Loop


def test_uvicorn_is_told_to_use_uvloop() -> None:
    assert eventloop.uvicorn_loop() == "uvloop"
