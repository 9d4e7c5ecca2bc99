"""uvicorn's HTTP protocol, as every cqrskit server speaks it: Nagle's
algorithm turned off on every connection, and the access log written by
`logs.AccessLogger` (one JSON line, one write; the same line as before).

`uvicorn --workers N` binds the listening socket itself with `proto` 0, so
asyncio does not set TCP_NODELAY on the connections it accepts, and each
keep-alive request after the first waits about 40 ms for the client's delayed
ACK (uvicorn issue #3149). Measured here: 44 ms per request with two workers,
2 ms with one. Setting the option per connection fixes every path.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cqrskit.runtime.logs import AccessLogger

_ACCESS_LOGGER = AccessLogger()


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_logger = _ACCESS_LOGGER  # uvicorn's call, our cheap line

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
