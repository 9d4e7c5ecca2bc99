"""The event store's SQL and the arguments of an append.

Kept apart from the store so the driver benchmark (bench/append_drivers.py)
runs exactly this statement on each driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cqrskit.adapters._event_rows import dumps
from cqrskit.adapters.postgres._database import Migration
from cqrskit.core.messages import Metadata, NewEvent, StreamAppend

MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE events (
            position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
            stream_id text NOT NULL,
            version integer NOT NULL CHECK (version > 0),
            type text NOT NULL,
            schema_version integer NOT NULL,
            data jsonb NOT NULL,
            metadata jsonb NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT events_stream_version UNIQUE (stream_id, version)
        )""",
        "CREATE INDEX events_log_order ON events (tx, position)",
        """CREATE TABLE idempotency (
            key text PRIMARY KEY,
            fingerprint text NOT NULL,
            stream_id text NOT NULL,
            version integer NOT NULL,
            position bigint NOT NULL,
            written jsonb NOT NULL,
            outcome text,
            detail text
        )""",
        """CREATE TABLE positions (
            name text PRIMARY KEY,
            position bigint NOT NULL
        )""",
    ),
    (
        # Folded states, one per stream and fold; the state is JSON kept as
        # bytes, as it is written and read whole and never queried.
        """CREATE TABLE snapshots (
            stream_id text NOT NULL,
            fold text NOT NULL,
            version integer NOT NULL,
            position bigint NOT NULL,
            state bytea NOT NULL,
            PRIMARY KEY (stream_id, fold)
        )""",
    ),
    (
        # Stored answers move into the log, one `idempotency-{key}` stream each
        # (core/idempotency.py), so that answers given before the upgrade still
        # replay. The table stays, unused: processes of the previous version
        # still running during a rolling upgrade write to it, and would fail if
        # it were gone (an answer one of them stores then is not replayed by
        # this version). A later version drops it.
        """INSERT INTO events (stream_id, version, type, schema_version, data, metadata)
        SELECT 'idempotency-' || key, 1, 'CommandAnswered', 1,
               jsonb_build_object(
                   'fingerprint', fingerprint, 'stream_id', stream_id,
                   'version', version, 'written', written,
                   'refused', CASE WHEN outcome IS NOT NULL THEN jsonb_build_object(
                       'kind', outcome, 'detail', coalesce(detail, outcome)) END),
               '{}'::jsonb
        FROM idempotency ORDER BY key
        ON CONFLICT ON CONSTRAINT events_stream_version DO NOTHING""",
    ),
)
EVENTS_UNIQUE = "events_stream_version"

# One statement, so one round trip and its own transaction. It inserts nothing
# when a stream is not at its expected version (as this statement's snapshot
# sees it); a writer that commits in between is caught by a unique violation
# instead. Positions come from the identity in `ord`er.
APPEND = """
WITH expected (stream_id, version) AS (
    SELECT * FROM unnest($1::text[], $2::int[])
), moved AS (
    SELECT FROM expected x
    WHERE x.version <> coalesce(
        (SELECT max(e.version) FROM events e WHERE e.stream_id = x.stream_id), 0)
)
INSERT INTO events
    (stream_id, version, type, schema_version, data, metadata, recorded_at)
SELECT n.stream_id, n.version, n.type, n.schema_version, n.data::jsonb,
       $8::text::jsonb, $9::timestamptz
FROM unnest($3::text[], $4::int[], $5::text[], $6::int[], $7::text[])
     WITH ORDINALITY AS n (stream_id, version, type, schema_version, data, ord)
WHERE NOT EXISTS (SELECT FROM moved)
ORDER BY n.ord
RETURNING position, stream_id, version
"""
# Why an append inserted nothing: each stream's version now.
CURRENT_VERSIONS = """
SELECT x.stream_id, x.version AS expected, coalesce(
    (SELECT max(e.version) FROM events e WHERE e.stream_id = x.stream_id), 0
) AS current
FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS x (stream_id, version, ord)
ORDER BY x.ord
"""

LOAD_SNAPSHOT = (
    "SELECT version, position, state FROM snapshots WHERE stream_id = $1 AND fold = $2"
)
# A writer with an older state never replaces a newer one.
SAVE_SNAPSHOT = """
INSERT INTO snapshots (stream_id, fold, version, position, state)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (stream_id, fold) DO UPDATE
SET version = excluded.version, position = excluded.position, state = excluded.state
WHERE snapshots.version < excluded.version
"""

EVENT_COLUMNS = (
    "position, stream_id, version, type, schema_version, data::text,"
    " metadata::text, recorded_at"
)
READ_STREAM = (
    f"SELECT {EVENT_COLUMNS} FROM events"
    " WHERE stream_id = $1 AND version >= $2 ORDER BY version"
)
# The streams whose id starts with $1, after $2, a page of $3: the unique
# index on (stream_id, version) serves the range and the grouping.
STREAMS = (
    "SELECT stream_id, max(version) AS version FROM events"
    " WHERE stream_id >= $1 AND stream_id > $2 AND starts_with(stream_id, $1)"
    " GROUP BY stream_id ORDER BY stream_id LIMIT $3"
)
READ_STREAM_PAGE = f"{READ_STREAM} LIMIT $3"
# The log order is (tx, position): the writing transaction's id, then the
# position within it. Only transactions below the snapshot's xmin are read;
# each of them has ended, so none can still add an event before the cursor.
# The cursor is the event at `after` (or, for a position that names no event,
# the one just before it); after = 0 finds none and starts from the top.
_AFTER_CURSOR = """(tx, position) > (
        coalesce(
            (SELECT c.tx FROM events c WHERE c.position <= $1
             ORDER BY c.position DESC LIMIT 1),
            '0'::xid8),
        $1)"""
READ_ALL = f"""
SELECT {EVENT_COLUMNS}, tx FROM events
WHERE {_AFTER_CURSOR}
  AND tx < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY tx, position
LIMIT $2
"""
READ_ENTRIES = f"""
SELECT position, stream_id, recorded_at FROM events
WHERE {_AFTER_CURSOR}
  AND tx < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY tx, position
LIMIT $2
"""
HEAD = """
SELECT position FROM events
WHERE tx < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY tx DESC, position DESC
LIMIT 1
"""
# The newest transaction with committed events after the cursor, returned or
# not, and whether every transaction up to it has ended.
NEWEST_AFTER = f"SELECT max(tx) FROM events WHERE {_AFTER_CURSOR}"
ENDED = "SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8"
LOAD_POSITION = "SELECT position FROM positions WHERE name = $1"
SAVE_POSITION = (
    "INSERT INTO positions (name, position) VALUES ($1, $2)"
    " ON CONFLICT (name) DO UPDATE SET position = excluded.position"
)


@dataclass(frozen=True, slots=True)
class PlannedAppend:
    """The rows an append will write, in order, and APPEND's arguments."""

    rows: list[tuple[str, int, NewEvent]]
    args: tuple[Any, ...]


def plan_append(
    appends: Sequence[StreamAppend], metadata: Metadata, recorded_at: datetime
) -> PlannedAppend:
    """Number each stream's events on from its expected version."""
    versions: dict[str, int] = {}
    rows: list[tuple[str, int, NewEvent]] = []
    for append in appends:
        version = versions.get(append.stream_id, append.expected_version)
        for event in append.events:
            version += 1
            rows.append((append.stream_id, version, event))
        versions[append.stream_id] = version
    args = (
        [a.stream_id for a in appends],
        [a.expected_version for a in appends],
        [sid for sid, _, _ in rows],
        [version for _, version, _ in rows],
        [e.type for _, _, e in rows],
        [e.schema_version for _, _, e in rows],
        [dumps(e.data) for _, _, e in rows],
        dumps(metadata.as_dict()),
        recorded_at,
    )
    return PlannedAppend(rows, args)
