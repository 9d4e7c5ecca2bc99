"""JWT verification with PyJWT: HS256 by a shared secret, or RS256/ES256 by
an identity provider's JWKS, keys chosen by `kid`.

The accepted algorithms are fixed by the mode, never read from the token, so
`alg: none` and an HS256 token signed with a public key are refused. A
verified token is kept (in a bounded LRU, until its `exp`) so a client that
sends the same token on every request pays for one verification.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import jwt

from cqrskit.core.auth import Principal
from cqrskit.core.errors import Misconfigured, StoreUnavailable, Unauthenticated

MIN_SECRET_BYTES = 32
"""RFC 7518 3.2: an HS256 key has at least as many bits as the hash."""
HMAC_ALGORITHMS = ["HS256"]
JWKS_ALGORITHMS = ["RS256", "ES256"]


class JwtVerifier:
    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        cache_size: int = 4096,
        jwks_cooldown: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (secret is None) == (jwks_url is None):
            raise Misconfigured(
                "set exactly one of CQRSKIT_AUTH_SECRET and CQRSKIT_AUTH_JWKS_URL"
            )
        if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
            raise Misconfigured(
                f"CQRSKIT_AUTH_SECRET is shorter than {MIN_SECRET_BYTES} bytes"
            )
        self._secret = secret
        self._jwks = (
            jwt.PyJWKClient(jwks_url, cooldown_duration=jwks_cooldown, timeout=5)
            if jwks_url is not None
            else None
        )
        self._algorithms = HMAC_ALGORITHMS if secret is not None else JWKS_ALGORITHMS
        self._issuer = issuer
        self._audience = audience
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size
        self._clock = clock

    async def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None and cached[1] > self._clock():
            self._cache.move_to_end(token)
            return cached[0]
        self._cache.pop(token, None)
        claims = self._decode(token, await self._key(token))
        expires = float(claims["exp"])
        if expires <= self._clock():  # the cache's clock decides too
            raise Unauthenticated("the bearer token has expired")
        principal = _principal(claims)
        self._cache[token] = (principal, expires)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    async def _key(self, token: str) -> Any:
        if self._jwks is None:
            return self._secret
        try:
            # PyJWKClient fetches with urllib: keep it off the event loop.
            found = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as e:
            raise StoreUnavailable(
                "the identity provider's keys are unreachable"
            ) from e
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as e:
            raise Unauthenticated(f"the bearer token is not valid: {e}") from e
        return found.key

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.ExpiredSignatureError as e:
            raise Unauthenticated("the bearer token has expired") from e
        except jwt.InvalidTokenError as e:
            raise Unauthenticated(f"the bearer token is not valid: {e}") from e
        return claims


def _principal(claims: dict[str, Any]) -> Principal:
    subject, roles = claims["sub"], claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("the bearer token's roles claim is not a list of names")
    if not isinstance(subject, str) or not 0 < len(subject) <= 128:
        raise Unauthenticated("the bearer token's sub claim is not an id")
    return Principal(subject, frozenset(roles))


def mint(
    secret: str,
    subject: str,
    roles: Iterable[str],
    ttl: float,
    *,
    issuer: str | None = None,
    audience: str | None = None,
    now: float | None = None,
) -> str:
    """An HS256 token for local use (`cqrskit token`, `cqrskit run --demo`)."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": list(roles),
        "iat": issued,
        "exp": issued + int(ttl),
    }
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")
