"""Redis adapters: the read store."""

from cqrskit.adapters.redis.read_store import RedisReadStore

__all__ = ["RedisReadStore"]
