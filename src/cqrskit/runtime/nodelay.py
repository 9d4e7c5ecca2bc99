"""uvicorn's HTTP protocol, as every cqrskit server speaks it
(`CqrskitHttpProtocol`): Nagle's algorithm off, a response's writes sent
together, and the access log written by `logs.AccessLogger` (one JSON line,
the same line as before). The bench's bare anchors get only the first.

`uvicorn --workers N` binds the listening socket itself with `proto` 0, so
asyncio does not set TCP_NODELAY on the connections it accepts, and each
keep-alive request after the first waits about 40 ms for the client's delayed
ACK (uvicorn issue #3149). Measured here: 44 ms per request with two workers,
2 ms with one. Setting the option per connection fixes every path.

uvicorn writes a response's head and its body apart, and uvloop sends each
write at once: two system calls (and, without Nagle, two TCP segments) for
a small answer. `_Corked` holds a connection's writes until the end of the
event loop's turn and sends them as one.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cqrskit.runtime.logs import AccessLogger

_ACCESS_LOGGER = AccessLogger()


class _Corked(asyncio.Transport):
    """`transport`, its writes of one turn of the event loop sent together."""

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__()
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes | bytearray | memoryview] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self.transport.is_closing():
            self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._pending = []
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + sum(map(len, self._pending))


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's protocol with Nagle off and nothing else (the bench's bare
    anchors are served with it)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


class CqrskitHttpProtocol(NoDelayHttpToolsProtocol):
    """What cqrskit's servers speak: Nagle off, writes corked per loop turn,
    the cheap access line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_logger = _ACCESS_LOGGER  # uvicorn's call, our cheap line

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _Corked(transport, self.loop)

    def handle_websocket_upgrade(self) -> None:
        """The WebSocket protocol gets the connection's own transport."""
        if isinstance(self.transport, _Corked):
            self.transport.flush()
            self.transport = self.transport.transport
        super().handle_websocket_upgrade()
