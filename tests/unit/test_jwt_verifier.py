"""The bearer-token verifier: which tokens it takes, which it refuses, keys
from a JWKS by `kid` (fetched again for an unknown one), and its cache."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cqrskit.adapters.pyjwt import JwtVerifier, mint
from cqrskit.core.auth import Principal
from cqrskit.core.errors import Misconfigured, Unauthenticated

SECRET = "a-secret-that-is-long-enough-0123456789"


class Jwks:
    """A JWKS endpoint on 127.0.0.1 whose keys a test changes."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                body = json.dumps({"keys": jwks.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"

    def publish(self, kid: str, public_jwk: dict[str, Any]) -> None:
        self.keys.append({**public_jwk, "kid": kid, "use": "sig"})


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    endpoint = Jwks()
    thread = threading.Thread(target=endpoint.server.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()
    thread.join(5)


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "alice", "roles": ["customer"], "exp": time.time() + 60, **extra}


def rsa_key(jwks: Jwks, kid: str) -> rsa.RSAPrivateKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.publish(kid, RSAAlgorithm.to_jwk(key.public_key(), as_dict=True))
    return key


async def test_a_token_signed_with_the_secret_names_its_principal() -> None:
    token = mint(SECRET, "alice", ["customer", "admin"], 60)
    principal = await JwtVerifier(secret=SECRET).verify(token)
    assert principal == Principal("alice", frozenset({"customer", "admin"}))


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode(claims(), SECRET[::-1], algorithm="HS256"),
        jwt.encode(claims(exp=time.time() - 5), SECRET, algorithm="HS256"),
        jwt.encode({"sub": "alice", "roles": ["customer"]}, SECRET, algorithm="HS256"),
        jwt.encode(claims(roles="admin"), SECRET, algorithm="HS256"),
        jwt.encode(claims(), SECRET * 2, algorithm="HS512"),
        jwt.encode(claims(), None, algorithm="none"),
    ],
    ids=[
        "garbage",
        "bad-signature",
        "expired",
        "no-exp",
        "roles-string",
        "hs512",
        "none",
    ],
)
async def test_refused_tokens_are_unauthenticated(token: str) -> None:
    with pytest.raises(Unauthenticated):
        await JwtVerifier(secret=SECRET).verify(token)


async def test_issuer_and_audience_are_checked_when_configured() -> None:
    verifier = JwtVerifier(secret=SECRET, issuer="https://idp", audience="shop")
    good = mint(
        SECRET, "alice", ["customer"], 60, issuer="https://idp", audience="shop"
    )
    assert (await verifier.verify(good)).subject == "alice"
    for issuer, audience in [("https://evil", "shop"), ("https://idp", "bank")]:
        bad = mint(SECRET, "alice", ["customer"], 60, issuer=issuer, audience=audience)
        with pytest.raises(Unauthenticated):
            await verifier.verify(bad)


def test_a_short_secret_or_no_key_is_a_misconfiguration() -> None:
    with pytest.raises(Misconfigured):
        JwtVerifier(secret="short")
    with pytest.raises(Misconfigured):
        JwtVerifier()


async def test_jwks_keys_by_kid_and_a_new_kid_fetches_them_again(jwks: Jwks) -> None:
    verifier = JwtVerifier(jwks_url=jwks.url, jwks_cooldown=0)
    first = rsa_key(jwks, "k1")
    token = jwt.encode(claims(), first, algorithm="RS256", headers={"kid": "k1"})
    assert (await verifier.verify(token)).subject == "alice"
    rotated = ec.generate_private_key(ec.SECP256R1())
    jwks.publish("k2", ECAlgorithm.to_jwk(rotated.public_key(), as_dict=True))
    fetched = jwks.fetches
    token = jwt.encode(
        claims(sub="bob"), rotated, algorithm="ES256", headers={"kid": "k2"}
    )
    assert (await verifier.verify(token)).subject == "bob"
    assert jwks.fetches == fetched + 1
    unknown = jwt.encode(claims(), first, algorithm="RS256", headers={"kid": "k9"})
    with pytest.raises(Unauthenticated):
        await verifier.verify(unknown)


async def test_jwks_mode_refuses_a_token_signed_with_a_shared_secret(
    jwks: Jwks,
) -> None:
    rsa_key(jwks, "k1")
    verifier = JwtVerifier(jwks_url=jwks.url, jwks_cooldown=0)
    forged = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Unauthenticated):
        await verifier.verify(forged)


async def test_a_verified_token_is_kept_until_it_expires(jwks: Jwks) -> None:
    now = [time.time()]
    verifier = JwtVerifier(jwks_url=jwks.url, jwks_cooldown=0, clock=lambda: now[0])
    key = rsa_key(jwks, "k1")
    token = jwt.encode(claims(exp=now[0] + 30), key, "RS256", headers={"kid": "k1"})
    await verifier.verify(token)
    fetched = jwks.fetches
    jwks.keys.clear()  # the keys are gone: only the cache can answer
    assert (await verifier.verify(token)).subject == "alice"
    assert jwks.fetches == fetched
    now[0] += 31
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_the_cache_is_bounded() -> None:
    verifier = JwtVerifier(secret=SECRET, cache_size=3)
    tokens = [mint(SECRET, f"c{n}", ["customer"], 60) for n in range(5)]
    for token in tokens:
        await verifier.verify(token)
    assert len(verifier._cache) == 3
