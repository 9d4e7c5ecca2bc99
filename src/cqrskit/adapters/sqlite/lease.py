"""The relay's lease next to a SQLite event store: an exclusive flock on a
file beside it. The OS releases it when the process dies; a frozen process
keeps it (SQLite serves one machine, where a frozen relay is a human's doing),
so the lease never needs to expire and stays valid while held."""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from cqrskit.adapters.memory.lease import LocalLease
from cqrskit.core.ports import LeaseHolder, PositionStore


class FileLease(LocalLease):
    def __init__(
        self, path: Path, positions: PositionStore, poll_interval: float = 0.1
    ) -> None:
        super().__init__(path.name, positions)
        self._path = path
        self._poll_interval = poll_interval
        self._fd: int | None = None

    async def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    await asyncio.sleep(self._poll_interval)
                    continue
                self._fd = fd
                since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{_me()}\n{since}\n".encode(), 0)
                return
        except BaseException:
            os.close(fd)
            raise

    def valid(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _me() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def file_lease_holder(path: Path) -> LeaseHolder | None:
    """Who holds the lease at `path` (its holder writes its name and the time
    into the file): nobody if the file is not locked."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder, _, since = os.pread(fd, 512, 0).decode().partition("\n")
            return LeaseHolder(holder, since.strip())
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
