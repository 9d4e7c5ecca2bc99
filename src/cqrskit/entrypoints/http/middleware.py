"""ASGI middleware shared by both services: correlation ids and a body limit."""

from __future__ import annotations

import itertools
import os
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cqrskit.core import logcontext, tracing
from cqrskit.entrypoints.http.problem_types import TOO_LARGE
from cqrskit.entrypoints.http.problems import problem

MAX_BODY_BYTES = 1024 * 1024
CORRELATION_HEADER = "X-Correlation-Id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class _Ids:
    """New correlation ids: 64 random bits drawn once per process, then a
    counter; 32 hex digits, uuid4's shape, without a system call each."""

    prefix = os.urandom(8).hex()
    count = itertools.count()

    @classmethod
    def reseed(cls) -> None:
        """A forked child draws its own bits (else it repeats its parent's)."""
        cls.prefix, cls.count = os.urandom(8).hex(), itertools.count()


os.register_at_fork(after_in_child=_Ids.reseed)


def correlation_of(given: str) -> str:
    """The request's correlation id: the caller's, if it is a safe one."""
    if given and _SAFE_ID.fullmatch(given):
        return given
    return f"{_Ids.prefix}{next(_Ids.count):016x}"


class RequestContextMiddleware:
    """Gives every request a correlation id (echoed back) and refuses bodies
    over MAX_BODY_BYTES with 413 before the application sees them."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        correlation_id = correlation_of(headers.get(CORRELATION_HEADER, ""))
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        logcontext.correlation_id.set(correlation_id)  # this request's task only
        tracing.annotate("cqrskit.correlation_id", correlation_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send_with_id)
            return
        declared = headers.get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_body
        ):
            await self._too_large(scope, receive, send_with_id)
            return
        body, complete = await self._read_body(receive)
        if not complete:
            await self._too_large(scope, receive, send_with_id)
            return

        await self.app(scope, replaying(body, receive), send_with_id)

    async def _read_body(self, receive: Receive) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"", True
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", False
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        limit = f"{self.max_body // 1024} KiB"
        response = problem(
            request, TOO_LARGE, f"the request body is larger than {limit}"
        )
        await response(scope, receive, send)


def replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` that first gives `body`, read already, whole."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
