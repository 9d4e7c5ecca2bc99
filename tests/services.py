"""Where the real services are, and what to do when one is not there.

Integration tests call `require(...)`. Without CQRSKIT_REQUIRE_SERVICES they
skip with a reason naming the service and its address (`-rs` lists them); with
it set (CI sets it) an unreachable service fails the test instead.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get(
    "CQRSKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CQRSKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("CQRSKIT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

_DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "amqp": 5672}


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), 1.0):
            return True
    except OSError:
        return False


def require(url: str) -> str:
    """Return `url` if its service answers; else skip (or fail in CI)."""
    if reachable(url):
        return url
    parts = urlsplit(url)
    message = f"{parts.scheme} is not reachable at {parts.hostname}:{parts.port}"
    if os.environ.get("CQRSKIT_REQUIRE_SERVICES"):
        pytest.fail(f"{message} (CQRSKIT_REQUIRE_SERVICES is set)")
    pytest.skip(f"integration test skipped: {message}")
