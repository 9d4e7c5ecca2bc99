"""The one place tests get credentials: the secret every started process is
given, and tokens signed with it.

Existing tests act as an operator (ADMIN_HEADERS): the contract holds for an
admin. Tests about access mint customer tokens with `token(...)`.
"""

from __future__ import annotations

import os

from cqrskit.adapters.pyjwt import JwtVerifier, mint
from cqrskit.core.auth import ADMIN, CUSTOMER

SECRET = "test-secret-of-cqrskit-0123456789abcdef"
"""HS256 key of the test processes (32+ bytes, as the services demand)."""
SERVER_KEY = b"test-server-key-of-cqrskit-0123456789abcdef"
"""The HMAC key of the in-process apps (fingerprints, consistency tokens)."""
HOUR = 3600.0


def token(subject: str, *roles: str, ttl: float = HOUR, secret: str = SECRET) -> str:
    return mint(secret, subject, roles or (CUSTOMER,), ttl)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def customer(subject: str) -> dict[str, str]:
    """Headers of a customer acting as `subject`."""
    return bearer(token(subject, CUSTOMER))


ADMIN_TOKEN = token("ops", ADMIN)
ADMIN_HEADERS = bearer(ADMIN_TOKEN)


def verifier() -> JwtVerifier:
    """What the in-process apps of the tests verify tokens with."""
    return JwtVerifier(secret=SECRET)


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a started cqrskit process: none of the developer's
    CQRSKIT_* settings, the test secret, and no rate limit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQRSKIT_")}
    env.update(PYTHONUNBUFFERED="1", CQRSKIT_AUTH_SECRET=SECRET, CQRSKIT_RATE_LIMIT="0")
    env.update(extra)
    return env
