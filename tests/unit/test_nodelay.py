"""Keep-alive requests are not held back by Nagle's algorithm, even on a
listening socket bound the way `uvicorn --workers N` binds it (proto 0)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from cqrskit.runtime.nodelay import CqrskitHttpProtocol, NoDelayHttpToolsProtocol


async def ok(request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def nodelay_of_accepted_connection(http: object) -> int:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    app = Starlette(routes=[Route("/", ok)])
    config = uvicorn.Config(app, http=http, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/")
            assert answer.text == "ok"
            (connection,) = server.server_state.connections
            sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
            return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def test_connections_on_a_prebound_socket_have_nagle_off() -> None:
    assert await nodelay_of_accepted_connection(NoDelayHttpToolsProtocol) == 1
    assert await nodelay_of_accepted_connection(CqrskitHttpProtocol) == 1


async def test_pipelined_requests_are_each_answered_whole() -> None:
    """Writes held to the end of the loop's turn still leave, in order."""
    app = Starlette(routes=[Route("/", ok)])
    config = uvicorn.Config(
        app, port=0, http=CqrskitHttpProtocol, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
        answers = [await reader.readuntil(b"\r\n\r\nok") for _ in range(3)]
        writer.close()
        assert all(a.startswith(b"HTTP/1.1 200 OK\r\n") for a in answers)
    finally:
        server.should_exit = True
        await serving
        listener.close()
