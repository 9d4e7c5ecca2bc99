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
