"""Services of a test's own, to stop and start at will, and single cqrskit role
processes pointed at them.

The shared services are never stopped: a test that needs PostgreSQL, Redis
or RabbitMQ to go away starts its own on a spare port (PostgreSQL and
RabbitMQ in a temporary data directory, run as their own OS users when the
test runs as root), stops only that one, and leaves nothing running.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from credentials import process_env

WAIT = 30.0


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}")) or [
        shutil.which(tool) or ""
    ]
    if not found[-1]:
        pytest.skip(f"{tool} is not installed")
    return found[-1]


def _as_user(user: str, argv: list[str]) -> list[str]:
    """As root, run a server's tools as its OS user (they refuse root, or
    want their own files and Erlang cookie)."""
    return ["runuser", "-u", user, "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test's own on `port` (not started yet)."""

    port: int
    settings: dict[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cqpg")))

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        subprocess.run(
            _as_user("postgres", list(argv)), check=True, capture_output=True
        )

    def start(self) -> None:
        data = self.root / "data"
        if not data.exists():
            if os.geteuid() == 0:
                shutil.chown(self.root, "postgres", "postgres")
            self._run(_pg_bin("initdb"), "-D", str(data), "-A", "trust",
                      "-U", "postgres", "--no-sync")  # fmt: skip
        options = {"port": str(self.port), "listen_addresses": "127.0.0.1",
                   "unix_socket_directories": str(self.root), "fsync": "off",
                   **self.settings}  # fmt: skip
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        self._run(_pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-w",
                  "-l", str(self.root / "log"), "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            self._run(_pg_bin("pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no"]  # fmt: skip
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        wait_for(lambda: listening(self.port), "the private Redis to listen")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


@dataclass
class PrivateRabbitMq:
    """A second RabbitMQ node: its own name, ports, data and logs, no plugins.

    It takes about 3 s to start here (7 s on a fresh data directory), so a
    suite starts it once and restarts it only on purpose."""

    port: int
    dist_port: int
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cqmq")))
    node: str = field(default_factory=lambda: f"faults-{os.getpid()}@localhost")
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _tool(self, name: str) -> list[str]:
        if not (RABBITMQ_BIN / name).exists():
            pytest.skip(f"{RABBITMQ_BIN / name} is not installed")
        if os.geteuid() != 0:
            return [str(RABBITMQ_BIN / name)]
        home = f"HOME={pwd.getpwnam('rabbitmq').pw_dir}"  # its Erlang cookie
        return _as_user("rabbitmq", ["env", home, str(RABBITMQ_BIN / name)])

    def _env(self) -> dict[str, str]:
        files = {
            "enabled_plugins": "[].\n",
            "rabbitmq-env.conf": "",
            "rabbitmq.conf": f"listeners.tcp.1 = 127.0.0.1:{self.port}\n",
        }
        for name, text in files.items():
            (self.root / name).write_text(text)
        if os.geteuid() == 0:
            for path in [self.root, *self.root.iterdir()]:
                shutil.chown(path, "rabbitmq", "rabbitmq")
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_PID_FILE": str(self.root / "pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
                "-kernel inet_dist_use_interface {127,0,0,1}"
            ),
        }

    def ctl(self, *args: str, timeout: float = 90.0) -> None:
        argv = [*self._tool("rabbitmqctl"), "-n", self.node, *args]
        subprocess.run(
            argv, check=True, capture_output=True, env=self._env(), timeout=timeout
        )

    def start(self) -> None:
        env = self._env()
        with (self.root / "server.out").open("ab") as out:
            self._proc = subprocess.Popen(
                self._tool("rabbitmq-server"), env=env, stdout=out, stderr=out
            )
        self.ctl("wait", str(self.root / "pid"), "--timeout", "60")
        wait_for(lambda: listening(self.port), "the private RabbitMQ to listen")

    def _beam_pid(self) -> int | None:
        try:
            return int((self.root / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """`rabbitmqctl stop`; what is left of the node is killed by its PID."""
        beam = self._beam_pid()
        try:
            self.ctl("stop", timeout=60)
        except (subprocess.SubprocessError, OSError):
            if beam is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(beam, signal.SIGKILL)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        (self.root / "pid").unlink(missing_ok=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Role:
    """One `cqrskit` role process (serve, relay, project) with its own log."""

    args: list[str]
    env: dict[str, str]
    port: int
    log: Path
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def start(self) -> Role:
        argv = [sys.executable, "-m", "cqrskit.entrypoints.cli", *self.args,
                "--port", str(self.port)]  # fmt: skip
        env = process_env(**self.env)
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        return self

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def status(self, path: str) -> int | None:
        try:
            return httpx.get(self.url + path, timeout=2).status_code
        except httpx.HTTPError:
            return None

    def wait_status(self, path: str, code: int, timeout: float = WAIT) -> None:
        wait_for(
            lambda: self.status(path) == code,
            f"{path} of {self.args[0]} to answer {code}",
            timeout,
            self,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGCONT)
            self._proc.kill()
            self._proc.wait()
            self._proc = None


def wait_for(
    condition: Callable[[], bool],
    what: str,
    timeout: float = WAIT,
    role: Role | None = None,
) -> float:
    """Poll `condition` until true; fail after `timeout`; return the seconds taken."""
    started = time.monotonic()
    while not condition():
        if role is not None and not role.alive():
            pytest.fail(
                f"{role.args} exited while waiting for {what}:\n{role.output()}"
            )
        if time.monotonic() - started > timeout:
            detail = f":\n{role.output()}" if role is not None else ""
            pytest.fail(f"timed out waiting for {what}{detail}")
        time.sleep(0.1)
    return time.monotonic() - started
