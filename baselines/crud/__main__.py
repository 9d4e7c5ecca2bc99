"""`python -m baselines.crud --port P --database-url URL [--workers N]`."""

from __future__ import annotations

import argparse
import asyncio
import os

import uvicorn

from baselines.crud.schema import create_schema


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m baselines.crud")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pool-size", type=int, default=10, help="per worker")
    args = parser.parse_args()
    asyncio.run(create_schema(args.database_url))  # once, before any worker
    os.environ["CRUD_DATABASE_URL"] = args.database_url
    os.environ["CRUD_POOL_SIZE"] = str(args.pool_size)
    uvicorn.run(
        "baselines.crud.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
