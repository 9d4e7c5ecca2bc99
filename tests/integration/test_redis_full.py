"""A Redis that is full (`maxmemory` reached under `noeviction`) refuses the read
store's writes with OOM, but the projectors' membership goes on: its heartbeat
script still renews the member, so a full read store does not make projectors
drop their partitions or end them with an error."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from redis import exceptions as rx

from cqrskit.adapters.redis.membership import RedisMembership
from cqrskit.core.sharing import Shares, keep_sharing

pytestmark = pytest.mark.integration


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def full_redis() -> Iterator[str]:
    """A private redis-server whose memory is already past its `maxmemory`
    (one byte, `noeviction`): it reads, and refuses every write with OOM."""
    port = spare_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no"]  # fmt: skip
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except rx.ConnectionError:
                time.sleep(0.05)
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", "1")
        with pytest.raises(rx.OutOfMemoryError):
            client.set("a", "b")
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait()


async def test_a_heartbeat_on_a_full_redis_still_renews_the_member(
    full_redis: str,
) -> None:
    membership = await RedisMembership.open(full_redis)
    try:
        assert await membership.heartbeat("projector-1", 3.0) == ["projector-1"]
        assert await membership.members() == ["projector-1"]
    finally:
        await membership.close()


async def test_sharing_goes_on_while_redis_is_full(full_redis: str) -> None:
    membership = await RedisMembership.open(full_redis)
    shares = Shares("projector-1", partitions=4)
    sharing = asyncio.create_task(
        keep_sharing(membership, shares, interval=0.02, ttl=1.0)
    )
    try:
        await asyncio.sleep(0.2)  # several heartbeats
        assert not sharing.done()  # still heartbeating, not ended by an error
        assert shares.members == ("projector-1",)
    finally:
        sharing.cancel()
        await asyncio.gather(sharing, return_exceptions=True)
        await membership.close()
