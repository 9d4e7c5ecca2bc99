"""A request without a usable X-Correlation-Id gets a new one: 32 hex
digits, never the same twice, in a process or across forked workers."""

from __future__ import annotations

import os
import re

from cqrskit.entrypoints.http.middleware import correlation_of


def test_new_ids_are_hex_and_distinct() -> None:
    ids = [correlation_of("") for _ in range(1000)] + [correlation_of("bad id")]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_a_safe_id_is_kept() -> None:
    assert correlation_of("order-7:retry.2") == "order-7:retry.2"


def test_a_forked_worker_draws_ids_of_its_own() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, correlation_of("").encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    mine = correlation_of("")
    assert child[:16] != mine[:16]
