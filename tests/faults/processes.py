"""The processes of a running `cqrskit up`, found under its PID in /proc.

The table `cqrskit up` prints names each role's port and first PID; a role
the supervisor restarted has a new PID, so roles are looked up afresh among
the children of `cqrskit up` by the `--port` on their command line."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _ppid(int(entry)) == pid:
            found.append(int(entry))
    return found


def descendants(pid: int) -> list[int]:
    """Children first, then theirs (a uvicorn parent and its workers)."""
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def role_pid(up_pid: int, port: int) -> int | None:
    """The child of `cqrskit up` that serves `port`, if one runs now."""
    for child in children(up_pid):
        args = cmdline(child)
        if "--port" in args and args[args.index("--port") + 1] == str(port):
            return child
    return None


def signal_tree(pid: int, signum: signal.Signals) -> None:
    """Signal a process and everything under it at once (a service with
    worker processes dies as a whole, as when its container is killed)."""
    for target in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signum)
