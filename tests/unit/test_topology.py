"""`cqrskit up`'s supervision: when a dead role is started again, and what
its banner shows of the URLs."""

from __future__ import annotations

import os
import subprocess
import sys

from cqrskit.runtime.topology import (
    RESTART_CAP,
    RESTART_FIRST,
    STEADY,
    Role,
    masked,
    tend,
)


def _dead_role() -> Role:
    """A role whose process ends at once, as a crashing one would."""
    role = Role("relay", ["--help"], 0, dict(os.environ))
    role.start()
    assert role.process is not None
    role.process.wait(30)
    return role


def test_a_dead_role_is_started_again_after_a_doubling_delay() -> None:
    role = _dead_role()
    first = role.process
    now = role.started_at
    tend(role, now)  # noticed dead: scheduled, not started yet
    assert role.due == now + RESTART_FIRST and role.process is first
    tend(role, now + RESTART_FIRST / 2)
    assert role.process is first
    tend(role, now + RESTART_FIRST)
    assert role.process is not first and role.restarts == 1
    assert role.process is not None
    role.process.wait(30)
    tend(role, now + RESTART_FIRST)  # died again: twice the delay this time
    assert role.due == now + 3 * RESTART_FIRST


def test_the_delay_stops_growing_at_its_cap() -> None:
    role = _dead_role()
    role.delay = RESTART_CAP
    tend(role, role.started_at)
    assert role.delay == RESTART_CAP


def test_a_role_that_stayed_up_gets_its_first_delay_back() -> None:
    role = Role("relay", [], 0, {})
    role.process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(9)"]
    )
    try:
        role.started_at, role.delay = 0.0, RESTART_CAP
        tend(role, STEADY + 1)
        assert role.delay == RESTART_FIRST and role.due is None
    finally:
        role.process.kill()
        role.process.wait()


def test_the_banner_masks_passwords() -> None:
    assert masked("amqp://guest:guest@h:5672/") == "amqp://guest:***@h:5672/"
    assert masked("redis://:secret@h:6379/0") == "redis://:***@h:6379/0"
    assert masked("postgresql://postgres@h/db") == "postgresql://postgres@h/db"


def test_passwords_in_log_lines_are_masked() -> None:
    import logging

    from cqrskit.runtime.redaction import MaskPasswords, mask_passwords

    text = "lost amqp://guest:s3cret@h:5672/ and postgresql://u:p%40ss@db/x; ok"
    assert mask_passwords(text) == (
        "lost amqp://guest:***@h:5672/ and postgresql://u:***@db/x; ok"
    )
    record = logging.LogRecord("x", logging.WARNING, "f", 1, "%s down", (text,), None)
    MaskPasswords().filter(record)
    assert "s3cret" not in record.getMessage() and "p%40ss" not in record.getMessage()


def test_a_port_that_answers_no_http_is_not_healthy() -> None:
    """Before a role listens, a probe can meet anything on its port (even
    itself); that is "not healthy yet", not a crash of `cqrskit up`."""
    import socket
    import threading

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def answer_garbage() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"not http at all\r\n\r\n")

        thread = threading.Thread(target=answer_garbage)
        thread.start()
        role = Role("relay", [], server.getsockname()[1], {})
        assert role.healthy() is False
        thread.join(10)
