"""Real servers for tests and benchmarks: PostgreSQL, gunicorn serving Neuvo, redis-server.

Each ``with`` helper starts its server on a free loopback port, waits until it answers
and stops it (removing its files) on the way out:

* :func:`postgres_server` - a private cluster (``initdb`` as the ``postgres`` user when
  run as root; durability off for speed) that a test may stop and start again;
* :func:`gunicorn` - ``gunicorn -w N "kb:create_app()"`` on an :class:`Instance`, with
  its master and worker pids (to kill a worker) and the worker behind a database
  connection (:meth:`Gunicorn.worker_with_local_port`);
* :func:`redis_server` - for limits shared by several workers.

An :class:`Instance` is a Neuvo instance folder plus its database URL, prepared with
the real command line (:func:`prepare_instance`: ``neuvo init``, ``neuvo demo``) and
copied cheaply (:meth:`Instance.clone`). Nothing here imports pytest or kb: a missing
binary raises :class:`ServerUnavailable` and the caller decides to skip or fail.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"


class ServerUnavailable(RuntimeError):
    """The server cannot be started here (binary not installed, not permitted)."""


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed."""
    end = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(interval)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


# ---------- processes

def child_pids(parent: int) -> list[int]:
    """Live child processes of ``parent`` (from /proc; zombies left out)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces and parentheses
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            children.append(int(entry.name))
    return sorted(children)


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _socket_inodes_with_local_port(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def pid_with_local_port(port: int, candidates: list[int]) -> int | None:
    """Which of ``candidates`` owns a TCP socket whose local port is ``port``."""
    wanted = {f"socket:[{inode}]" for inode in _socket_inodes_with_local_port(port)}
    for pid in candidates:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) in wanted:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


# ---------- PostgreSQL

def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian layout)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


@dataclass
class PostgresServer:
    """A private cluster owned by a test or a benchmark; superuser ``neuvo``, trust auth."""

    bin_dir: Path
    base: Path
    port: int
    settings: Mapping[str, str]
    as_user: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the server, without a database name."""
        return f"postgresql+psycopg://neuvo@{LOOPBACK}:{self.port}"

    def database_url(self, name: str) -> str:
        return f"{self.url}/{name}"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.base / "data"), *args],
                              check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        options = " ".join([f"-p {self.port}", f"-k {self.base}", f"-c listen_addresses={LOOPBACK}",
                            *(f"-c {key}={value}" for key, value in self.settings.items())])
        self._pg_ctl("-l", str(self.base / "log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``fast`` ends open sessions, ``immediate`` is a crash."""
        self._pg_ctl("-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def is_running(self) -> bool:
        return self._pg_ctl("status", check=False).returncode == 0

    def connect(self, database: str = "postgres", *, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(host=LOOPBACK, port=self.port, user="neuvo", dbname=database, autocommit=autocommit)

    def query(self, sql: str, params: tuple | dict | None = None, *, database: str = "postgres") -> list[tuple]:
        """Run one statement (autocommit) and return its rows."""
        with self.connect(database) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str, *, template: str = "template1") -> str:
        """Create database ``name`` as a copy of ``template``; returns its URL."""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "200"}


@contextmanager
def postgres_server(settings: Mapping[str, str] = FAST_SETTINGS) -> Iterator[PostgresServer]:
    """A new cluster in a temporary folder, stopped and removed afterwards.

    The default ``settings`` trade durability for speed (tests, load runs); data
    survives stopping and restarting the server either way.
    """
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise ServerUnavailable("PostgreSQL server binaries not installed (/usr/lib/postgresql/*/bin/initdb)")
    # not under pytest's tmp dirs: those are private to root, and the server runs as postgres
    base = Path(tempfile.mkdtemp(prefix="neuvo-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(bin_dir, base, free_port(), dict(settings), as_user)
    try:
        subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(base / "data"), "-U", "neuvo",
                        "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
                       check=True, capture_output=True, timeout=120)
        server.start()
        yield server
    finally:
        if (base / "data" / "postmaster.pid").exists():
            server._pg_ctl("-m", "immediate", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)


# ---------- Neuvo instances

@dataclass(frozen=True)
class Instance:
    """A Neuvo instance: its folder, database and settings, driven through the real CLI."""

    path: Path
    database_url: str
    #: Extra settings as NEUVO_* environment values (strings; JSON where the app parses it).
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def index_path(self) -> Path:
        return Path(self.settings.get("NEUVO_INDEX_PATH") or self.path / "index")

    def env(self, **extra: str) -> dict[str, str]:
        """The process environment for ``neuvo`` and gunicorn on this instance."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("NEUVO_")}
        env.update({
            "NEUVO_INSTANCE_PATH": str(self.path),
            "NEUVO_DATABASE_URL": self.database_url,
            "NEUVO_SECRET_KEY": "stress-test-secret-key",
            "NEUVO_MAIL_BASE_URL": "http://127.0.0.1",
            # plain http on loopback: cookies without the Secure flag
            "NEUVO_SESSION_COOKIE_SECURE": "false",
            "NEUVO_REMEMBER_COOKIE_SECURE": "false",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.settings)
        env.update(extra)
        return env

    def with_settings(self, **settings: str) -> Instance:
        return replace(self, settings={**self.settings, **settings})

    def neuvo(self, *args: str, check: bool = True, timeout: float = 600,
              input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``neuvo ARGS`` to completion; output captured as text."""
        result = subprocess.run([str(VENV_BIN / "neuvo"), *args], env=self.env(), cwd=ROOT, capture_output=True,
                                text=True, timeout=timeout, input=input, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"neuvo {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        return result

    def start_neuvo(self, *args: str) -> subprocess.Popen[str]:
        """Start ``neuvo ARGS`` without waiting (to kill it midway); output captured as text."""
        return subprocess.Popen([str(VENV_BIN / "neuvo"), *args], env=self.env(), cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def clone(self, path: Path, database_url: str | None = None) -> Instance:
        """Copy the folder to ``path``; a SQLite database inside it moves along.

        For PostgreSQL give the URL of a copy of the database
        (:meth:`PostgresServer.create_database` with this one's as template).
        """
        shutil.copytree(self.path, path)
        if database_url is None:
            prefix = f"sqlite:///{self.path}/"
            if not self.database_url.startswith(prefix):
                raise ValueError("the database is outside the instance folder: give database_url")
            database_url = f"sqlite:///{path}/{self.database_url.removeprefix(prefix)}"
        return replace(self, path=path, database_url=database_url)


def prepare_instance(path: Path, database_url: str | None = None, *, demo: bool = True,
                     settings: Mapping[str, str] | None = None) -> Instance:
    """A new instance at ``path`` (SQLite inside it unless ``database_url``): ``neuvo init`` (and ``demo``)."""
    path.mkdir(parents=True, exist_ok=True)
    instance = Instance(path, database_url or f"sqlite:///{path}/neuvo.db", dict(settings or {}))
    instance.neuvo("init")
    if demo:
        instance.neuvo("demo")
    return instance


# ---------- gunicorn

#: Loaded by gunicorn (-c): marks each worker ready once it has loaded the app.
_HOOKS = """
import os
def post_worker_init(worker):
    open(os.path.join({ready!r}, str(worker.pid)), "w").close()
"""


@dataclass
class Gunicorn:
    """A running gunicorn master serving Neuvo on ``port``."""

    process: subprocess.Popen[bytes]
    port: int
    workers: int
    run_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def master_pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> str:
        return (self.run_dir / "gunicorn.log").read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        return child_pids(self.master_pid)

    def ready_workers(self) -> list[int]:
        """Workers that have loaded the app and accept requests."""
        ready = {int(p.name) for p in (self.run_dir / "ready").iterdir()}
        return [pid for pid in self.worker_pids() if pid in ready]

    def wait_ready(self, timeout: float = 60, replacing: tuple[int, ...] = ()) -> list[int]:
        """Wait until all workers are ready and none of ``replacing`` (killed ones) is among them."""
        def done() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log}")
            pids = self.ready_workers()
            return len(pids) == self.workers and not set(pids) & set(replacing)

        if not wait_until(done, timeout, 0.1):
            raise TimeoutError(f"gunicorn workers not ready after {timeout} s:\n{self.log}")
        return self.ready_workers()

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker (the master starts a new one)."""
        if pid not in self.worker_pids():
            raise ValueError(f"{pid} is not a worker of gunicorn {self.master_pid}")
        os.kill(pid, signal.SIGKILL)

    def worker_with_local_port(self, port: int) -> int | None:
        """The worker owning a client socket on local ``port`` (e.g. pg_stat_activity.client_port)."""
        return pid_with_local_port(port, self.worker_pids())

    def stop(self, timeout: float = 20) -> None:
        """Graceful stop (SIGTERM), then SIGKILL of the master and workers if they hang."""
        if self.process.poll() is None:
            workers = self.worker_pids()
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                for pid in workers:
                    if pid_alive(pid):
                        os.kill(pid, signal.SIGKILL)
                self.process.kill()
                self.process.wait(timeout)


@contextmanager
def gunicorn(instance: Instance, *, workers: int = 4, env: Mapping[str, str] | None = None,
             args: tuple[str, ...] = (), ready_timeout: float = 90) -> Iterator[Gunicorn]:
    """Serve ``instance`` with ``gunicorn -w WORKERS "kb:create_app()"`` on a free loopback port.

    ``env`` adds or overrides NEUVO_* settings; ``args`` are more gunicorn options.
    Returns once every worker has loaded the app and the site answers.
    """
    run_dir = Path(tempfile.mkdtemp(prefix="neuvo-gunicorn-"))
    (run_dir / "ready").mkdir()
    hooks = run_dir / "hooks.py"
    hooks.write_text(_HOOKS.format(ready=str(run_dir / "ready")))
    port = free_port()
    log = (run_dir / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"{LOOPBACK}:{port}", "-c", str(hooks),
         "--control-socket", str(run_dir / "gunicorn.ctl"), "--error-logfile", "-", *args, "kb:create_app()"],
        env=instance.env(**(env or {})), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn(process, port, workers, run_dir)
    try:
        server.wait_ready(ready_timeout)
        if not wait_until(lambda: _port_open(port), 10):
            raise TimeoutError(f"gunicorn does not accept connections on {port}:\n{server.log}")
        yield server
    finally:
        server.stop()
        log.close()
        shutil.rmtree(run_dir, ignore_errors=True)


# ---------- Redis

@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server (no persistence) on a free loopback port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
                                "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(process, port)
    try:
        if not wait_until(server.ping, 10):
            raise TimeoutError(f"redis-server on port {port} does not answer PING")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
