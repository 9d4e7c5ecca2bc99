"""The server key both services share for their HMACs."""

from __future__ import annotations

import pytest

from cqrskit.core.errors import Misconfigured
from cqrskit.runtime.settings import Settings

SECRET = "a-secret-that-is-long-enough-0123456789"


def settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_derived_from_the_auth_secret_the_same_in_every_process() -> None:
    key = settings(CQRSKIT_AUTH_SECRET=SECRET).hmac_key()
    assert key == settings(CQRSKIT_AUTH_SECRET=SECRET).hmac_key()
    assert SECRET.encode() not in key, "not the token secret itself"
    assert key != settings(CQRSKIT_AUTH_SECRET=SECRET + "x").hmac_key()


def test_its_own_variable_wins_and_a_jwks_needs_it() -> None:
    own = "a-server-key-that-is-long-enough-012345"
    both = settings(CQRSKIT_AUTH_SECRET=SECRET, CQRSKIT_SERVER_KEY=own)
    assert both.hmac_key() == own.encode()
    with pytest.raises(Misconfigured, match="CQRSKIT_SERVER_KEY"):
        settings(CQRSKIT_AUTH_JWKS_URL="https://idp/jwks").hmac_key()
    with pytest.raises(Misconfigured, match="shorter"):
        settings(CQRSKIT_SERVER_KEY="short").hmac_key()


def test_never_shown_in_a_repr() -> None:
    shown = repr(settings(CQRSKIT_AUTH_SECRET=SECRET, CQRSKIT_SERVER_KEY=SECRET * 2))
    assert SECRET not in shown
