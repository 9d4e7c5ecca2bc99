"""The `eventsourcing` library (PyPI) on its PostgreSQL persistence: appends
per second and loading one aggregate of N events, the same work as
`compare.py store` does on ours.

    PEER_VENV/bin/python bench/peer_eventsourcing.py --dsn URL [--appends N]
        [--events 10000]

Run it with the Python of a throwaway venv holding `eventsourcing[postgres]`
(bench/compare.sh makes one): the library is never a dependency of ours. Its
tables go into the database of the DSN. Prints one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

CHUNK = 500
"""Events saved per call while building the long aggregate."""


class Stock(Aggregate):
    def __init__(self, sku: str) -> None:
        self.sku = sku
        self.available = 0

    @event("StockAdded")
    def add(self, quantity: int) -> None:
        self.available += quantity


def application(dsn: str) -> Application:
    url = urlsplit(dsn)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/"),
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "unused",
    }
    return Application(env=env)


def appends_per_s(app: Application, count: int) -> float:
    """One new aggregate (one event) saved per call, one writer."""
    app.save(Stock("WARM-UP"))
    started = time.perf_counter()
    for n in range(count):
        app.save(Stock(f"SKU-{n}"))
    return count / (time.perf_counter() - started)


def load_ms(app: Application, events: int) -> float:
    stock = Stock("LONG")
    for n in range(events - 1):  # the creation is the first event
        stock.add(1)
        if n % CHUNK == CHUNK - 1:
            app.save(stock)
    app.save(stock)
    started = time.perf_counter()
    loaded: Any = app.repository.get(stock.id)
    elapsed = (time.perf_counter() - started) * 1000
    if loaded.available != events - 1:
        raise SystemExit(f"loaded {loaded.available} units, expected {events - 1}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    app = application(args.dsn)
    rate = appends_per_s(app, args.appends)
    print(json.dumps({"key": "peer_append", "per_s": rate, "count": args.appends}))
    took = load_ms(app, args.events)
    print(json.dumps({"key": "peer_load", "ms": took, "events": args.events}))


if __name__ == "__main__":
    main()
