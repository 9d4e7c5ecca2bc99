"""The command line as an operator meets it: a version, options from the
environment, usage errors that are a message and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from harness import poll
from topology import ServicesTopology

from credentials import process_env

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "cqrskit.entrypoints.cli"]


def cqrskit(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=process_env(**env),
        cwd=cwd,
    )


def test_version_is_the_package_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = cqrskit("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"cqrskit, version {version('cqrskit')}"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--log-level", "nonsense", "run"], {}, "'nonsense' is not one of"),
        (["run"], {"CQRSKIT_LOG_LEVEL": "loud"}, "'loud' is not one of"),
        (["rebuild"], {"CQRSKIT_PARTITIONS": "eight"}, "CQRSKIT_PARTITIONS must be"),
        (["relay"], {"CQRSKIT_RATE_LIMIT": "lots"}, "CQRSKIT_RATE_LIMIT must be"),
        (["serve", "query"], {"CQRSKIT_PARTITIONS": "8x"}, "CQRSKIT_PARTITIONS"),
        (["rebuild", "nosuch"], {}, "no projection 'nosuch'"),
        (["bench", "--command-url", "http://127.0.0.1:9"], {}, "go together"),
        (["serve", "command", "--access-log-level", "all"], {}, "'all' is not"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = cqrskit(*args, cwd=tmp_path, **env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".cqrskit").exists()  # refused before doing anything


def test_every_option_shows_its_variable_in_help(tmp_path: Path) -> None:
    for command in (["run"], ["serve", "query"], ["relay"], ["up"], ["bench"]):
        result = cqrskit(*command, "--help", cwd=tmp_path)
        options = [
            line for line in result.stdout.splitlines() if line.strip()[:2] == "--"
        ]
        assert options, result.stdout
        text = " ".join(result.stdout.split())  # help wraps its lines
        assert text.count("env var: CQRSKIT_") == len(options), result.stdout


def test_options_are_read_from_the_environment(tmp_path: Path) -> None:
    """CQRSKIT_DATA_DIR is where the embedded stores go, and an option's
    variable (here `token --ttl`) sets it."""
    data = tmp_path / "elsewhere"
    loaded = cqrskit("demo-data", cwd=tmp_path, CQRSKIT_DATA_DIR=str(data))
    assert loaded.returncode == 0, loaded.stderr
    assert (data / "events.db").exists()
    assert not (tmp_path / ".cqrskit").exists()

    bad_ttl = cqrskit(
        "token", "--customer", "a", cwd=tmp_path, CQRSKIT_TOKEN_TTL="soon"
    )
    assert bad_ttl.returncode == 2
    assert "'soon' is not a duration" in bad_ttl.stderr


@pytest.mark.integration
def test_up_demo_loads_the_demo_catalog(tmp_path: Path) -> None:
    system = ServicesTopology(tmp_path, extra_args=("--demo",))
    system.start()
    try:
        with httpx.Client(base_url=system.query_url, timeout=5) as client:
            mug = poll(
                lambda: client.get("/products/MUG-01"),
                lambda body: body["available"] == 40,
            )
        assert mug["name"] == "Stoneware mug"
    finally:
        system.stop()
