"""Fixtures of the session's PostgreSQL cluster: a private server started once, a migrated
template database, and a throwaway database per test copied from it (a pytest plugin, loaded
by tests/conftest.py).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kb.migrate import upgrade
from tests.servers import free_port, postgres_bin


def _memory_tmp() -> str | None:
    """/dev/shm when it has room: CREATE DATABASE per test costs ~20 ms there, ~400 ms on this disk."""
    shm = Path("/dev/shm")
    try:
        return str(shm) if shutil.disk_usage(shm).free > 2 * 1024**3 else None
    except OSError:
        return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a private PostgreSQL cluster; yields an admin URL without a database name."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        if os.environ.get("NEUVO_REQUIRE_POSTGRES") or os.environ.get("NEUVO_TEST_DATABASE") == "postgresql":
            pytest.fail("PostgreSQL is required (NEUVO_REQUIRE_POSTGRES or NEUVO_TEST_DATABASE) "
                        "but initdb was not found")
        pytest.skip("PostgreSQL server binaries not installed")
    # not under pytest's tmp dirs: those are private to root, and the server runs as postgres
    base = Path(tempfile.mkdtemp(prefix="neuvo-pg-", dir=_memory_tmp()))
    data, port = base / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "neuvo", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w",
                    "-o", (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                           f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"),
                    "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://neuvo@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


class PostgresDatabases:
    """Creates and drops databases on the session's cluster (each from a template database)."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.admin = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")

    def create(self, name: str | None = None, *, template: str = "template1") -> str:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return f"{self.server_url}/{name}"

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server)
    yield databases
    databases.admin.dispose()


@pytest.fixture(scope="session")
def postgres_template(postgres_databases: PostgresDatabases) -> str:
    """A migrated database used as the template of every test database."""
    engine = create_engine(postgres_databases.create("neuvo_template"))
    upgrade(engine)
    engine.dispose()
    return "neuvo_template"


@pytest.fixture
def throwaway_postgres(request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    """Factory: a new PostgreSQL database copied from ``template``, dropped after the test."""
    created: list[tuple[PostgresDatabases, str]] = []

    def make(template: str) -> str:
        databases = request.getfixturevalue("postgres_databases")
        created.append((databases, databases.create(template=template)))
        return created[-1][1]

    yield make
    for databases, url in created:
        databases.drop(url)


@pytest.fixture
def postgres_url(postgres_template: str, throwaway_postgres: Callable[[str], str]) -> str:
    """A migrated PostgreSQL database of the test's own, whatever NEUVO_TEST_DATABASE says."""
    return throwaway_postgres(postgres_template)
