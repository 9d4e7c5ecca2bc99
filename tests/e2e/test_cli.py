"""What a person sees from the command line when something is off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import jwt
import pytest
from harness import CqrskitProcess, free_port, running_cqrskit

from credentials import SECRET

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "cqrskit.entrypoints.cli"]


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
    assert result.returncode == 2
    assert "there are: catalog, carts, orders" in result.stderr


def _up(env_url: str, secret: str | None = SECRET) -> subprocess.Popen[str]:
    first = free_port()
    command = [sys.executable, "-m", "cqrskit.entrypoints.cli", "up"]
    ports = ["--command-port", str(first), "--query-port", str(free_port())]
    env = {"CQRSKIT_EVENT_STORE_URL": env_url, "PATH": "/usr/bin:/bin"}
    if secret is not None:
        env["CQRSKIT_AUTH_SECRET"] = secret
    return subprocess.Popen(
        [*command, *ports, "--first-worker-port", str(free_port())],
        env=env,
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


@pytest.mark.parametrize("secret", [None, "short"])
def test_up_refuses_to_start_without_a_key(secret: str | None) -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/cqrskit_no_key"
    process = _up(nowhere, secret)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "CQRSKIT_AUTH_SECRET" in stderr
    assert "Traceback" not in stderr


def test_serve_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "serve", "query", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "no key to verify bearer tokens" in result.stderr


def test_token_is_signed_with_the_secret_run_keeps(tmp_path: Path) -> None:
    """Without CQRSKIT_AUTH_SECRET, `run` keeps a secret in its data directory
    that only its owner can read, `--demo` prints tokens that work, and
    `token` signs with the same secret."""
    gen = running_cqrskit(tmp_path / "data", tmp_path, "--demo", secret=False)
    system = next(gen)
    try:
        _check_local_tokens(tmp_path, system)
    except BaseException:
        system.kill()
        raise
    next(gen, None)  # stops it, asserting a clean exit


def _check_local_tokens(tmp_path: Path, system: CqrskitProcess) -> None:
    secret_file = tmp_path / "data" / "auth-secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    secret = secret_file.read_text().strip()
    args = ["--customer", "carol", "--admin", "--ttl", "15m"]
    printed = subprocess.run(
        [*CLI, "token", *args, "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    claims = jwt.decode(printed.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["sub"] == "carol" and claims["roles"] == ["customer", "admin"]
    assert claims["exp"] - claims["iat"] == 15 * 60
    output = system.output()
    assert secret not in output, "the secret is never printed"
    tokens = dict(line.split()[-2:] for line in output.splitlines() if "eyJ" in line)
    alice, admin = tokens["alice"], tokens["admin"]
    as_alice = {"Authorization": f"Bearer {alice}"}
    as_admin = {"Authorization": f"Bearer {admin}"}
    with httpx.Client(base_url=system.query_url, timeout=10) as client:
        assert client.get("/customers/alice/orders", headers=as_alice).is_success
        assert client.get("/customers/bob/orders", headers=as_admin).is_success
        theirs = client.get("/customers/bob/orders", headers=as_alice)
        assert theirs.status_code == 404
        assert client.get("/customers/alice/orders").status_code == 401


def test_demo_data_loads_and_ends(tmp_path: Path) -> None:
    first = cqrskit("demo-data", "--data-dir", str(tmp_path))
    again = cqrskit("demo-data", "--data-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "demo data loaded (5 new items)" in first.stdout
    assert again.returncode == 0, again.stderr  # the same keys: nothing appended
