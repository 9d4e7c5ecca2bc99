"""Private PostgreSQL, Redis and RabbitMQ instances on spare ports.

The fault suite stops and restarts services; it may only do that to
instances of its own, never to the shared ones on 5432/6379/5672. Each class
here starts one instance in a temporary directory, knows its PID and stops
it by that PID. Run as root, PostgreSQL and RabbitMQ run as their own OS
users (`runuser`), as their packages expect; RabbitMQ then uses that user's
Erlang cookie, which the `rabbitmqctl` calls here share.

Measured on the 2-core test machine: `initdb` about 0.5 s, PostgreSQL start
under 1 s, a RabbitMQ node about 3 s warm and 7 s on a fresh data directory,
so the suite starts each service once and restarts only where a scenario
says so.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 60.0
PG_BIN = Path("/usr/lib/postgresql/15/bin")
RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


def wait_listening(port: int, name: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not listening(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not listen on {port} in {timeout} s")
        time.sleep(0.1)


def as_user(user: str) -> list[str]:
    """Run as `user` when we are root (the server refuses root or wants its
    own files); as ourselves otherwise."""
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


def owned_dir(path: Path, user: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        shutil.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def kill_pid(pid: int | None) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def missing_binaries() -> list[str]:
    wanted = [PG_BIN / "initdb", PG_BIN / "pg_ctl"]
    found = [str(p) for p in wanted if not p.exists()]
    if not shutil.which("redis-server"):
        found.append("redis-server")
    if not (RABBITMQ_BIN / "rabbitmq-server").exists():
        found.append(str(RABBITMQ_BIN / "rabbitmq-server"))
    return found


@dataclass
class PrivatePostgres:
    """`initdb` into a directory of its own, `pg_ctl` on a spare port."""

    base: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        """pg_ctl's output goes to a file: the server it starts inherits it,
        and a pipe would stay open for as long as the server runs."""
        argv = [*as_user("postgres"), str(PG_BIN / "pg_ctl"), "-D", str(self.data)]
        with (self.base / "pg_ctl.out").open("ab") as out:
            subprocess.run(
                [*argv, *args], check=True, stdout=out, stderr=out, timeout=90
            )

    def start(self) -> None:
        if not self.data.exists():
            owned_dir(self.base, "postgres")
            initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust"]
            subprocess.run(
                [*as_user("postgres"), *initdb, "-U", "postgres", "--no-sync"],
                check=True,
                capture_output=True,
                timeout=120,
            )
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=200"
        )  # fsync off: a clean restart keeps every commit; the OS never crashes here
        log = str(self.base / "log")
        self._pg_ctl("start", "-o", options, "-l", log, "-w", "-t", "60")
        wait_listening(self.port, "postgresql")

    def restart(self) -> None:
        """A fast shutdown (connections cut, commits kept), then start."""
        log = str(self.base / "log")
        self._pg_ctl("restart", "-m", "fast", "-l", log, "-w", "-t", "60")
        wait_listening(self.port, "postgresql")

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        pid = self.pid()
        try:
            self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30")
        except (subprocess.SubprocessError, OSError):
            kill_pid(pid)


@dataclass
class PrivateRedis:
    """A second `redis-server`, in the foreground so its PID is ours."""

    base: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        argv += ["--dir", str(self.base), "--logfile", str(self.base / "log")]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        wait_listening(self.port, "redis")

    def kill(self) -> None:
        """Lose Redis and everything in it (no persistence)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    stop = kill


@dataclass
class PrivateRabbitMq:
    """A second RabbitMQ node: its own name, ports, data and logs, no plugins."""

    base: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    node: str = field(default_factory=lambda: f"faults-{os.getpid()}@localhost")
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        owned_dir(self.base, "rabbitmq")
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
        )
        (self.base / "rabbitmq-env.conf").write_text("")
        home = pwd.getpwnam("rabbitmq").pw_dir if os.geteuid() == 0 else None
        return {
            **os.environ,
            **({"HOME": home} if home else {}),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
                "-kernel inet_dist_use_interface {127,0,0,1}"
            ),
        }

    def _command(self, program: str) -> list[str]:
        home = ["env", f"HOME={pwd.getpwnam('rabbitmq').pw_dir}"]
        prefix = [*as_user("rabbitmq"), *home] if os.geteuid() == 0 else []
        return [*prefix, str(RABBITMQ_BIN / program)]

    def ctl(self, *args: str, timeout: float = 90.0) -> None:
        subprocess.run(
            [*self._command("rabbitmqctl"), "-n", self.node, *args],
            check=True,
            capture_output=True,
            env=self._env(),
            timeout=timeout,
        )

    def start(self) -> None:
        env = self._env()
        with (self.base / "server.out").open("ab") as out:
            self.process = subprocess.Popen(
                self._command("rabbitmq-server"), env=env, stdout=out, stderr=out
            )
        self.ctl("wait", str(self.base / "pid"), "--timeout", str(int(START_TIMEOUT)))
        wait_listening(self.port, "rabbitmq")

    def pid(self) -> int | None:
        try:
            return int((self.base / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """`rabbitmqctl stop`; whatever is left of the node is killed by PID."""
        beam = self.pid()
        try:
            self.ctl("stop", timeout=60)
        except (subprocess.SubprocessError, OSError):
            kill_pid(beam)
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill_pid(beam)
                self.process.kill()
                self.process.wait()
            self.process = None
        (self.base / "pid").unlink(missing_ok=True)
