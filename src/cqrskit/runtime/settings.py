"""Settings: one frozen object, read once at start-up from CQRSKIT_* variables."""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from cqrskit.core.errors import Misconfigured

DEFAULT_APP = "cqrskit.shop.app:app"
"""The application every role runs unless CQRSKIT_APP (or --app) names another."""


@dataclass(frozen=True, slots=True)
class Settings:
    event_store_url: str
    broker_url: str
    read_store_url: str
    partitions: int = 8
    consistency_timeout: float = 5.0
    max_failures: int = 5
    """How often one event may fail in a projection before its stream is parked."""
    snapshot_every: int = 1000
    snapshot_slow_load: float = 0.05
    state_cache_size: int = 10_000
    view_cache_size: int = 10_000
    """Documents each query process keeps in memory (0: none)."""
    auth_secret: str | None = field(default=None, repr=False)
    """HS256 key of the bearer tokens; never printed (repr=False)."""
    auth_jwks_url: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    server_key: str | None = field(default=None, repr=False)
    """The services' own HMAC key (request fingerprints, consistency tokens)."""
    rate_limit: float = 20.0
    """Commands per second per caller on each command service; 0: none."""
    app: str = DEFAULT_APP
    """`package.module:attr` of the application object (runtime/applications.py)."""

    @property
    def has_auth_key(self) -> bool:
        return bool(self.auth_secret or self.auth_jwks_url)

    def with_secret(self, secret: str) -> Settings:
        return replace(self, auth_secret=secret)

    def with_server_key(self, key: str) -> Settings:
        return replace(self, server_key=key)

    def hmac_key(self) -> bytes:
        """The key the command and query services share for their HMACs:
        CQRSKIT_SERVER_KEY, else one derived from CQRSKIT_AUTH_SECRET (so a
        deployment with a shared secret needs nothing more). With a JWKS there
        is no shared secret, so CQRSKIT_SERVER_KEY must be set."""
        if self.server_key:
            if len(self.server_key.encode()) < 32:
                raise Misconfigured("CQRSKIT_SERVER_KEY is shorter than 32 bytes")
            return self.server_key.encode()
        if self.auth_secret:
            secret = self.auth_secret.encode()
            return hmac.new(secret, b"cqrskit server key v1", "sha256").digest()
        raise Misconfigured(
            "no server key: set CQRSKIT_SERVER_KEY (32+ bytes; the same on the "
            "command and query services) or CQRSKIT_AUTH_SECRET"
        )

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, data_dir: Path | None = None
    ) -> Settings:
        """With nothing set, embedded stores under `data_dir` (default ./.cqrskit)."""
        env = os.environ if env is None else env
        base = data_dir or Path(env.get("CQRSKIT_DATA_DIR", ".cqrskit"))
        return cls(
            event_store_url=env.get(
                "CQRSKIT_EVENT_STORE_URL", f"sqlite:///{base}/events.db"
            ),
            broker_url=env.get("CQRSKIT_BROKER_URL", "memory://"),
            read_store_url=env.get(
                "CQRSKIT_READ_STORE_URL", f"sqlite:///{base}/views.db"
            ),
            partitions=_number(env, "CQRSKIT_PARTITIONS", 8, int),
            consistency_timeout=_number(env, "CQRSKIT_CONSISTENCY_TIMEOUT", 5.0, float),
            max_failures=_number(env, "CQRSKIT_MAX_FAILURES", 5, int),
            snapshot_every=_number(env, "CQRSKIT_SNAPSHOT_EVERY", 1000, int),
            snapshot_slow_load=_number(env, "CQRSKIT_SNAPSHOT_SLOW_LOAD", 0.05, float),
            state_cache_size=_number(env, "CQRSKIT_STATE_CACHE_SIZE", 10_000, int),
            view_cache_size=_number(env, "CQRSKIT_VIEW_CACHE_SIZE", 10_000, int),
            auth_secret=env.get("CQRSKIT_AUTH_SECRET") or None,
            auth_jwks_url=env.get("CQRSKIT_AUTH_JWKS_URL") or None,
            auth_issuer=env.get("CQRSKIT_AUTH_ISSUER") or None,
            auth_audience=env.get("CQRSKIT_AUTH_AUDIENCE") or None,
            server_key=env.get("CQRSKIT_SERVER_KEY") or None,
            rate_limit=_number(env, "CQRSKIT_RATE_LIMIT", 20.0, float),
            app=env.get("CQRSKIT_APP") or DEFAULT_APP,
        )


N = TypeVar("N", int, float)


def _number(env: Mapping[str, str], name: str, default: N, kind: type[N]) -> N:
    """A numeric setting; a value that is not one (`CQRSKIT_PARTITIONS=eight`)
    is refused by name instead of surfacing as a bare ValueError."""
    text = env.get(name)
    if text is None or text == "":
        return default
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise Misconfigured(f"{name} must be {what}, not {text!r}") from None


def sqlite_path(url: str) -> Path:
    """`sqlite:///rel/x.db` is relative, `sqlite:////abs/x.db` absolute."""
    return Path(url.removeprefix("sqlite:///"))


SECRET_FILE = "auth-secret"
SERVER_KEY_FILE = "server-key"


def local_secret(data_dir: Path, name: str = SECRET_FILE) -> str:
    """A secret kept in `data_dir` for local use (the HS256 secret, or the
    server key beside a JWKS), created (mode 0600, never printed) the first
    time it is asked for."""
    path = data_dir / name
    if not path.exists():
        import secrets

        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
