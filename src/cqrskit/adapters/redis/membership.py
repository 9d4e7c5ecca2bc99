"""Membership on Redis: one sorted set of member -> the time its heartbeat
runs out, on the read store's server (every projector reaches it).

A heartbeat is one Lua script on the server's clock (`TIME`), so the
projectors' own clocks do not need to agree: it forgets the members that ran
out, renews this one and returns the rest. The key expires on its own once
nobody has renewed it for a while.
"""

from __future__ import annotations

import redis.asyncio as redis

from cqrskit.adapters.redis._client import UNAVAILABLE, connect
from cqrskit.core.errors import StoreUnavailable

_HEARTBEAT = """
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = tonumber(ARGV[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now)
redis.call("ZADD", KEYS[1], now + ttl, ARGV[1])
redis.call("PEXPIRE", KEYS[1], math.ceil(ttl * 2000))
return redis.call("ZRANGE", KEYS[1], 0, -1)
"""

_LIVE = """
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return redis.call("ZRANGEBYSCORE", KEYS[1], "(" .. now, "+inf")
"""


class RedisMembership:
    def __init__(self, client: redis.Redis, key: str) -> None:
        self._client = client
        self._key = key
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._live = client.register_script(_LIVE)

    @classmethod
    async def open(
        cls, url: str, *, namespace: str = "cqrskit", group: str = "projectors"
    ) -> RedisMembership:
        """A client of its own (the read store's is not shared) on `url`."""
        client = connect(url, decode_responses=True)
        return cls(client, f"{namespace}:m:{group}")

    async def heartbeat(self, member: str, ttl: float) -> list[str]:
        try:
            members = await self._heartbeat(keys=[self._key], args=[member, ttl])
        except UNAVAILABLE as e:
            raise StoreUnavailable(f"Redis cannot serve: {e}") from e
        return sorted(str(m) for m in members)

    async def members(self) -> list[str]:
        try:
            members = await self._live(keys=[self._key])
        except UNAVAILABLE as e:
            raise StoreUnavailable(f"Redis cannot serve: {e}") from e
        return sorted(str(m) for m in members)

    async def leave(self, member: str) -> None:
        try:
            await self._client.zrem(self._key, member)
        except UNAVAILABLE as e:
            raise StoreUnavailable(f"Redis cannot serve: {e}") from e

    async def close(self) -> None:
        await self._client.aclose()
