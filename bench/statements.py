"""Do the event store's statements hit asyncpg's statement cache?

    .venv/bin/python bench/statements.py [--dsn DSN] [--appends N]

asyncpg prepares each statement text once per connection and keeps it in a
cache keyed by the text, so a statement whose text varies per call (a VALUES
list as long as the batch, an IN list as long as the streams) is prepared
anew each time. This drives PostgresEventStore on a fresh database through
every path a service takes, with arguments of varying shape: appends of 1 to
10 events on 1 to 5 streams, with and without an idempotency stream, that
succeed or conflict (a keyed command's answer appended with them in one
append); stream reads from any version; log pages of any size;
snapshots; the relay's position. A query logger on every pooled connection
counts executions per distinct statement text, and each connection's
pg_prepared_statements shows what the server holds prepared. Prints the
counts; exits non-zero when the distinct texts grow with the calls.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.messages import Metadata, NewEvent, StreamAppend
from cqrskit.core.ports import Snapshot

PG = os.environ.get("CQRSKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
META = Metadata(command_id="statements", correlation_id="statements")


async def workload(store: PostgresEventStore, appends: int, me: int) -> None:
    """One writer's share, on streams and keys of its own; one append in
    twenty expects a stale version on purpose (the conflict path)."""
    rng = random.Random(me)
    versions: dict[str, int] = {}
    for n in range(appends):
        streams = [f"s-{me}-{rng.randrange(50)}" for _ in range(rng.randint(1, 5))]
        batch = [
            StreamAppend(
                s,
                versions.get(s, 0) - (1 if rng.random() < 0.05 else 0),
                [
                    NewEvent("Happened", {"n": n, "k": k})
                    for k in range(rng.randint(1, 10))
                ],
            )
            for s in dict.fromkeys(streams)
        ]
        if rng.random() < 0.5:  # a keyed command: its answer in the same append
            answer = NewEvent("CommandAnswered", {"fingerprint": "fp", "n": n})
            batch.append(StreamAppend(f"idempotency-key-{me}-{n}", 0, [answer]))
        try:
            recorded = await store.append(batch, metadata=META)
        except ConcurrencyError:
            continue
        for event in recorded:
            if not event.stream_id.startswith("idempotency-"):
                versions[event.stream_id] = event.version
        stream = rng.choice(list(versions))
        await store.read_stream(stream, rng.randint(1, versions[stream]))
        if n % 10 == 0:
            await store.read_all(rng.randrange(n + 1), rng.randint(1, 500))
            await store.save_position("relay", n)
            await store.load_position("relay")
            await store.read_stream(f"idempotency-key-{me}-{n}", 1)
            snap = Snapshot(stream, "fold", versions[stream], 1, {"n": n})
            await store.save_snapshot(snap)
            await store.load_snapshot(stream, "fold")


async def _keep_session(_: asyncpg.Connection) -> None:
    """No reset on release, as the store's own pool (adapters/postgres/_database)."""


async def run(dsn: str, appends: int) -> int:
    name = f"statements_{uuid.uuid4().hex[:10]}"
    url = urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    executed: Counter[str] = Counter()
    probe = "SELECT count(*) FROM pg_prepared_statements"
    try:
        await (await PostgresEventStore.open(url)).close()  # the tables

        async def init(conn: asyncpg.Connection) -> None:
            conn.add_query_logger(lambda record: executed.update([record.query]))

        pool = await asyncpg.create_pool(
            url, min_size=4, max_size=4, init=init, reset=_keep_session
        )
        try:
            store = PostgresEventStore(pool, lambda: datetime.now(UTC), 1.0)
            await asyncio.gather(
                *(workload(store, appends // 4, me) for me in range(4))
            )
            held = [await pool.acquire() for _ in range(pool.get_max_size())]
            prepared = [
                await conn.fetchval(probe)
                for conn in held  # each pooled connection once
            ]
            for conn in held:
                await pool.release(conn)
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    del executed[probe]
    return report(executed, prepared)


def report(executed: Counter[str], prepared: list[int]) -> int:
    total = sum(executed.values())
    print(f"{total} statements executed, {len(executed)} distinct texts:")
    for text, count in executed.most_common():
        print(f"{count:>7}  {' '.join(text.split())[:90]}")
    print(
        f"prepared statements per connection (server side, this count's own"
        f" included): {prepared}"
    )
    return 0 if len(executed) <= 16 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=PG)
    parser.add_argument("--appends", type=int, default=2000)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(run(args.dsn, args.appends)))


if __name__ == "__main__":
    main()
