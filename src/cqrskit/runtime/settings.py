"""Settings: one frozen object, read once at start-up from CQRSKIT_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


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
            max_failures=int(env.get("CQRSKIT_MAX_FAILURES", "5")),
            snapshot_every=int(env.get("CQRSKIT_SNAPSHOT_EVERY", "1000")),
            snapshot_slow_load=float(env.get("CQRSKIT_SNAPSHOT_SLOW_LOAD", "0.05")),
            state_cache_size=int(env.get("CQRSKIT_STATE_CACHE_SIZE", "10000")),
        )


def sqlite_path(url: str) -> Path:
    """`sqlite:///rel/x.db` is relative, `sqlite:////abs/x.db` absolute."""
    return Path(url.removeprefix("sqlite:///"))
