"""What a person sees from the command line when something is off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness import CqrskitProcess, free_port

pytestmark = pytest.mark.e2e


def cqrskit(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cqrskit.entrypoints.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_a_port_in_use_is_refused_plainly(
    fresh_cqrskit: CqrskitProcess, tmp_path: Path
) -> None:
    port = str(fresh_cqrskit.command_port)
    other = str(free_port())
    data = str(tmp_path / "other")
    second = cqrskit(
        "run", "--command-port", port, "--query-port", other, "--data-dir", data
    )

    assert second.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in second.stderr
    assert "Traceback" not in second.stderr
    assert fresh_cqrskit.running  # the first one is untouched


def test_an_unknown_store_url_is_refused_plainly(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cqrskit.entrypoints.cli", "rebuild"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"CQRSKIT_EVENT_STORE_URL": "mysql://x", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "no event store adapter for 'mysql://x'" in result.stderr


def test_rebuild_names_the_projections_it_knows(tmp_path: Path) -> None:
    result = cqrskit("rebuild", "nosuch", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "there are: catalog, carts, orders" in result.stderr


def _up(env_url: str) -> subprocess.Popen[str]:
    first = free_port()
    command = [sys.executable, "-m", "cqrskit.entrypoints.cli", "up"]
    ports = ["--command-port", str(first), "--query-port", str(free_port())]
    return subprocess.Popen(
        [*command, *ports, "--first-worker-port", str(free_port())],
        env={"CQRSKIT_EVENT_STORE_URL": env_url, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_up_waits_for_a_postgresql_that_is_not_there_yet() -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/cqrskit_up_wait"
    process = _up(nowhere)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(3)  # still waiting, not exited
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "is unavailable" in stderr
    assert "Traceback" not in stderr


def test_up_refuses_credentials_postgresql_rejects() -> None:
    from urllib.parse import urlsplit, urlunsplit

    from services import POSTGRES_URL, require

    parts = urlsplit(require(POSTGRES_URL))
    netloc = f"nosuchrole@{parts.hostname}:{parts.port or 5432}"
    process = _up(urlunsplit(parts._replace(netloc=netloc)))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert 'role "nosuchrole" does not exist' in stderr
    assert "Traceback" not in stderr


def test_demo_data_loads_and_ends(tmp_path: Path) -> None:
    first = cqrskit("demo-data", "--data-dir", str(tmp_path))
    again = cqrskit("demo-data", "--data-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "demo catalog loaded (5 new products)" in first.stdout
    assert again.returncode == 0, again.stderr  # the same keys: nothing appended
