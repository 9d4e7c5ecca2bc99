"""docs/extending.md, followed as printed: its files are written into an empty
directory, their tests run there as a project of its own, and its commands are
typed there (on free ports instead of 8000/8001, with the `cqrskit` of the
interpreter running the tests) until the last read answers as printed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import free_port

pytestmark = pytest.mark.e2e

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"
BIN = Path(sys.executable).parent
GUIDE = DOC.read_text()[: DOC.read_text().index("## Reference")]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", GUIDE, flags=re.S)


def write_files(root: Path) -> list[Path]:
    """Each Python block names its file on its first line (`# todo/app.py`)."""
    written = []
    for block in blocks("python"):
        name = block.splitlines()[0].removeprefix("# ").strip()
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block)
        written.append(path)
    return written


def shell(root: Path, env: dict[str, str], script: str) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, (script, done.stdout, done.stderr)
    return done.stdout


def test_the_guide_builds_runs_and_tests_a_domain(tmp_path: Path) -> None:
    setup, run, tests = blocks("bash")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CQRSKIT_")}
    env |= {"PATH": f"{BIN}:{env['PATH']}", "CQRSKIT_DATA_DIR": str(tmp_path / "data")}
    shell(tmp_path, env, setup)
    assert sorted(p.name for p in write_files(tmp_path)) == [
        "app.py",
        "domain.py",
        "test_todo.py",
    ]

    tested = shell(
        tmp_path, env, tests.replace("pytest", f"{BIN}/pytest -p no:cacheprovider")
    )
    assert "3 passed" in tested, tested

    start, *commands = run.strip().splitlines()
    ports = {"8000": str(free_port()), "8001": str(free_port())}
    argv = [*start.removesuffix("&").split(), "--command-port", ports["8000"]]
    argv += ["--query-port", ports["8001"]]
    log = (tmp_path / "run.log").open("wb")
    server = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=log, stderr=log)
    try:
        _wait_ready(ports)
        token, *writes, read = [_local(line, ports) for line in commands]
        for write in writes:
            answer = json.loads(shell(tmp_path, env, f"{token}\n{write}"))
            assert answer["stream_id"] == "todo-home", answer
        expected = json.loads(blocks("json")[0])
        deadline = time.monotonic() + 10
        while (
            seen := json.loads(shell(tmp_path, env, f"{token}\n{read}"))
        ) != expected:
            assert time.monotonic() < deadline, seen
            time.sleep(0.05)
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=15)
        log.close()
        assert code == 0, (tmp_path / "run.log").read_text()


def _local(line: str, ports: dict[str, str]) -> str:
    for port, free in ports.items():
        line = line.replace(f"localhost:{port}", f"127.0.0.1:{free}")
    return line


def _wait_ready(ports: dict[str, str]) -> None:
    import httpx

    deadline = time.monotonic() + 30
    for port in ports.values():
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "cqrskit run did not get ready"
            time.sleep(0.1)
