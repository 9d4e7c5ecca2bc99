"""Serving several ASGI apps from one event loop, stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator, Sequence

import uvicorn
from starlette.types import ASGIApp

from cqrskit.runtime.nodelay import CqrskitHttpProtocol


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Servers:
    def __init__(
        self,
        apps: Sequence[tuple[ASGIApp, str, int]],
        log_level: str | None = "warning",
    ) -> None:
        """`log_level` sets uvicorn's loggers, the access log's included
        (a relay's /metrics scrapes need no line each); None leaves the levels
        the process's logging configuration set."""
        self._servers = [
            _Server(
                uvicorn.Config(
                    app,
                    host=host,
                    port=port,
                    log_config=None,  # the process's own (cqrskit.runtime.logs)
                    log_level=log_level,
                    lifespan="on",
                    http=CqrskitHttpProtocol,
                )
            )
            for app, host, port in apps
        ]

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True

    async def started(self) -> bool:
        """Wait until every server listens; False if one gave up."""
        while not all(s.started for s in self._servers):
            if any(s.should_exit for s in self._servers):
                return False
            await asyncio.sleep(0.02)
        return True

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        try:
            results = await asyncio.gather(
                *(s.serve() for s in self._servers), return_exceptions=True
            )
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        for result in results:
            if isinstance(result, BaseException):
                self.stop()
                raise result


class PortInUse(OSError):
    pass


def ensure_free(host: str, port: int, option: str) -> None:
    """Refuse early, with a clear message, a port something already listens on."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise PortInUse(
                f"{host}:{port} is already in use (another cqrskit?); "
                f"choose another with {option}"
            ) from e
