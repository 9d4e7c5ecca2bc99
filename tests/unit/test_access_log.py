"""The access log's cheap path writes the line the JSON formatter writes for
uvicorn's record, obeys the access log's level and masks passwords."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from cqrskit.core import logcontext
from cqrskit.runtime import logs

FORMAT = '%s - "%s %s HTTP/%s" %d'
ARGS = ("127.0.0.1:5555", "GET", "/products/A?x=1", "1.1", 200)


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """stderr as `logs.configure` finds it; the logging set-up restored after."""
    root, access = logging.getLogger(), logging.getLogger(logs.ACCESS)
    saved = (root.handlers[:], root.level, access.level, access.propagate)
    yield capsys
    root.handlers[:], root.level = saved[0], saved[1]
    access.level, access.propagate = saved[2], saved[3]


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def lines(stderr: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.readouterr().err.splitlines()]


def test_the_line_is_the_formatters_line(stderr: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "info", role="query")
    logcontext.correlation_id.set("abc")
    logging.getLogger(logs.ACCESS).info(FORMAT, *ARGS)  # through logging
    logs.AccessLogger().info(FORMAT, *ARGS)
    slow, fast = lines(stderr)
    assert fast["correlation_id"] == "abc"
    assert fast["path"] == "/products/A?x=1"
    assert list(fast) == list(slow)
    assert {k: v for k, v in fast.items() if k != "time"} == {
        k: v for k, v in slow.items() if k != "time"
    }


def test_the_access_level_turns_it_off(stderr: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "warning", role="query")
    logs.AccessLogger().info(FORMAT, *ARGS)
    assert lines(stderr) == []


def test_passwords_are_masked(stderr: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "info", role="query")
    path = "/x?to=postgres://app:hunter2@db/shop"
    logs.AccessLogger().info(FORMAT, *ARGS[:2], path, *ARGS[3:])
    (line,) = lines(stderr)
    assert "hunter2" not in json.dumps(line)
    assert line["path"] == "/x?to=postgres://app:***@db/shop"


def test_without_the_json_handler_logging_writes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, access = logging.getLogger(), logging.getLogger(logs.ACCESS)
    others = [
        h for h in root.handlers if not isinstance(h.formatter, logs.JsonFormatter)
    ]
    monkeypatch.setattr(root, "handlers", others)
    monkeypatch.setattr(access, "level", logging.INFO)
    kept = _Kept()
    access.addHandler(kept)
    try:
        logs.AccessLogger().info(FORMAT, *ARGS)
    finally:
        access.removeHandler(kept)
    (record,) = kept.records
    assert record.getMessage() == '127.0.0.1:5555 - "GET /products/A?x=1 HTTP/1.1" 200'


async def test_lines_of_one_loop_turn_are_written_at_its_end(
    stderr: pytest.CaptureFixture[str],
) -> None:
    logs.configure("info", "info", role="query")
    logger = logs.AccessLogger()
    for n in range(3):
        logger.info(FORMAT, *ARGS[:2], f"/products/{n}", *ARGS[3:])
    await asyncio.sleep(0)  # the turn ends
    assert [line["path"] for line in lines(stderr)] == [
        f"/products/{n}" for n in range(3)
    ]
