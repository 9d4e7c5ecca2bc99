"""Running one command: its transaction and its Idempotency-Key.

The answer is stored under the key in the command's own transaction, so a
replay finds either nothing (and runs the command) or the whole answer. A
declined card is stored too, so a replay answers 402 without a charge
attempt; any other refusal stores nothing and may be retried.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import asyncpg
import orjson
from fastapi import Request
from starlette.responses import Response

from baselines.crud.audit import Ack
from baselines.crud.problems import MEDIA_TYPE, Conflict, Declined, Invalid, problem
from cqrskit.entrypoints.http.models import Body

Work = Callable[[asyncpg.pool.PoolConnectionProxy, str], Awaitable[Ack]]
TOKEN_HEADER = "Consistency-Token"


async def execute(
    request: Request, body: Body | None, key: str | None, status: int, work: Work
) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    canonical = [request.method, request.url.path, body.model_dump() if body else None]
    fingerprint = hashlib.sha256(
        orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    async with pool.acquire() as conn:
        if key and (stored := await _replay(conn, key, fingerprint)):
            return stored
        try:
            async with conn.transaction():
                ack = await work(conn, request.scope["correlation_id"])
                answer = _answer(status, orjson.dumps(ack.body()))
                if key:
                    await _store(conn, key, fingerprint, status, bytes(answer.body))
        except Declined as e:
            refused = problem(request, e.status, e.title, e.detail)
            if key:
                await _store(conn, key, fingerprint, e.status, bytes(refused.body))
            return refused
        except asyncpg.UniqueViolationError as e:
            if key and (stored := await _replay(conn, key, fingerprint)):
                return stored  # a twin with the same key committed first
            raise Conflict("a concurrent change got there first; retry") from e
    return answer


def _answer(status: int, body: bytes) -> Response:
    if status >= 400:
        return Response(body, status, media_type=MEDIA_TYPE)
    token = orjson.loads(body)["consistency_token"]
    headers = {TOKEN_HEADER: token}
    return Response(body, status, headers, media_type="application/json")


async def _replay(
    conn: asyncpg.pool.PoolConnectionProxy, key: str, fingerprint: str
) -> Response | None:
    row = await conn.fetchrow(
        "SELECT fingerprint, status, body FROM idempotency WHERE key = $1", key
    )
    if row is None:
        return None
    if row["fingerprint"] != fingerprint:
        raise Invalid("this Idempotency-Key was used with another request")
    return _answer(row["status"], bytes(row["body"]))


async def _store(
    conn: asyncpg.pool.PoolConnectionProxy,
    key: str,
    fingerprint: str,
    status: int,
    body: bytes,
) -> None:
    await conn.execute(
        "INSERT INTO idempotency (key, fingerprint, status, body)"
        " VALUES ($1, $2, $3, $4)",
        key,
        fingerprint,
        status,
        body,
    )
