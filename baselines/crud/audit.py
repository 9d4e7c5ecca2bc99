"""The answer every command gives, and the history rows that back it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

Change = tuple[str, int, str, dict[str, Any]]
"""One history row: stream id, its new version, what happened, the facts."""

_RECORD = """
INSERT INTO audit (stream_id, version, type, data, correlation_id)
SELECT s, v, t, d::jsonb, $5
FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) AS u(s, v, t, d)
RETURNING position
"""


@dataclass(frozen=True, slots=True)
class Ack:
    stream_id: str
    version: int
    position: int
    ids: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The answer, with a token of the cqrskit shape: reads here are
        always current, so the token is never waited on."""
        return {
            "stream_id": self.stream_id,
            "version": self.version,
            "position": self.position,
            "consistency_token": self.token,
            **self.ids,
        }

    @property
    def token(self) -> str:
        return f"{self.stream_id}@{self.version}"


async def record(
    conn: asyncpg.pool.PoolConnectionProxy, correlation_id: str, changes: list[Change]
) -> int:
    """Write the rows in one statement; the position of the last."""
    streams, versions, types, data = zip(*changes, strict=True)
    encoded = [orjson.dumps(d).decode() for d in data]
    rows = await conn.fetch(
        _RECORD, list(streams), list(versions), list(types), encoded, correlation_id
    )
    return max(int(r["position"]) for r in rows)


async def unchanged(
    conn: asyncpg.pool.PoolConnectionProxy, stream_id: str, version: int
) -> Ack:
    """The answer to a command that changes nothing: the current version."""
    position = await conn.fetchval(
        "SELECT coalesce(max(position), 0) FROM audit WHERE stream_id = $1",
        stream_id,
    )
    return Ack(stream_id, version, int(position))


async def history(
    conn: asyncpg.pool.PoolConnectionProxy, stream_id: str
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT version, position, type, data::text AS data, correlation_id,"
        " recorded_at FROM audit WHERE stream_id = $1 ORDER BY version",
        stream_id,
    )
    return [
        {
            "stream_id": stream_id,
            "version": r["version"],
            "position": r["position"],
            "type": r["type"],
            "schema_version": 1,
            "recorded_at": r["recorded_at"].isoformat(),
            "metadata": {"correlation_id": r["correlation_id"]},
            "data": orjson.loads(r["data"]),
        }
        for r in rows
    ]
