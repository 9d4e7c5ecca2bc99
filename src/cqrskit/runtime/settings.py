"""Settings: one frozen object, read once at start-up from CQRSKIT_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    event_store_url: str
    broker_url: str
    read_store_url: str
    partitions: int = 8
    consistency_timeout: float = 5.0
    snapshot_every: int = 1000
    snapshot_slow_load: float = 0.05
    state_cache_size: int = 10_000
    auth_secret: str | None = field(default=None, repr=False)
    """HS256 key of the bearer tokens; never printed (repr=False)."""
    auth_jwks_url: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None

    @property
    def has_auth_key(self) -> bool:
        return bool(self.auth_secret or self.auth_jwks_url)

    def with_secret(self, secret: str) -> Settings:
        return replace(self, auth_secret=secret)

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
            partitions=int(env.get("CQRSKIT_PARTITIONS", "8")),
            consistency_timeout=float(env.get("CQRSKIT_CONSISTENCY_TIMEOUT", "5")),
            snapshot_every=int(env.get("CQRSKIT_SNAPSHOT_EVERY", "1000")),
            snapshot_slow_load=float(env.get("CQRSKIT_SNAPSHOT_SLOW_LOAD", "0.05")),
            state_cache_size=int(env.get("CQRSKIT_STATE_CACHE_SIZE", "10000")),
            auth_secret=env.get("CQRSKIT_AUTH_SECRET") or None,
            auth_jwks_url=env.get("CQRSKIT_AUTH_JWKS_URL") or None,
            auth_issuer=env.get("CQRSKIT_AUTH_ISSUER") or None,
            auth_audience=env.get("CQRSKIT_AUTH_AUDIENCE") or None,
        )


def sqlite_path(url: str) -> Path:
    """`sqlite:///rel/x.db` is relative, `sqlite:////abs/x.db` absolute."""
    return Path(url.removeprefix("sqlite:///"))


SECRET_FILE = "auth-secret"


def local_secret(data_dir: Path) -> str:
    """The HS256 secret kept in `data_dir` for local use, created (mode 0600,
    never printed) the first time it is asked for."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        import secrets

        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
