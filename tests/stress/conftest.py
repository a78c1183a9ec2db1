"""The load and fault suite: real gunicorn workers, a private PostgreSQL cluster, the real CLI.

Runs only when asked for by path (``python -m pytest -p no:xdist tests/stress``), never
as part of the whole suite: it starts servers and kills processes, and needs the
machine to itself more than the unit tests do.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.fixtures.servers import (
    Instance,
    PostgresServer,
    ServerUnavailable,
    postgres_server,
    prepare_instance,
)

HERE = Path(__file__).resolve().parent
DEMO_DATABASE = "stress_demo"

#: The stress instances run with the sentence encoder off: this suite is about serving and data
#: safety under load, and on two cores the encoder (tens of ms per text) would turn each import
#: and reindex here into minutes. Its vectors, including two processes storing the same one at
#: once, are tested in tests/editorial/test_semantic.py; its cost is measured in bench/.
SETTINGS = {"NEUVO_SUGGEST_SEMANTIC": "off"}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect the stress tests only when a path inside tests/stress was given."""
    for arg in config.args:
        asked = Path(arg.split("::", 1)[0]).resolve()
        if asked == HERE or HERE in asked.parents:
            return None
    return True


#: A stress test is a whole scenario against real servers (a killed import, a database outage and
#: its recovery) that waits up to two minutes for a step: more than the suite's 120 s per test.
STRESS_TIMEOUT = 600


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(STRESS_TIMEOUT))


def unavailable(error: Exception, *, required_by: str | None = None) -> None:
    """Skip for a missing server, or fail when the environment says it is required (CI)."""
    if required_by and os.environ.get(required_by):
        pytest.fail(f"{error} (required: {required_by} is set)")
    pytest.skip(str(error))


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster for the stress suite (tests may stop and restart it)."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(postgres_server())
        except ServerUnavailable as error:
            unavailable(error, required_by="NEUVO_REQUIRE_POSTGRES")
        yield server


@pytest.fixture(scope="session")
def sqlite_demo(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    """The demo shop on SQLite, prepared once through `neuvo init` and `neuvo demo`."""
    return prepare_instance(tmp_path_factory.mktemp("stress") / "sqlite-demo", settings=SETTINGS)


@pytest.fixture(scope="session")
def postgres_demo(pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Instance:
    """The demo shop on PostgreSQL (database ``stress_demo``, used as a template by copies)."""
    url = pg.create_database(DEMO_DATABASE)
    return prepare_instance(tmp_path_factory.mktemp("stress") / "postgres-demo", url, settings=SETTINGS)


class DemoCopies:
    """Private copies of the demo instance, made on demand."""

    def __init__(self, request: pytest.FixtureRequest):
        self.request = request

    def make(self, backend: str, folder: Path) -> Instance:
        """A copy in ``folder`` (which must not exist yet) on ``"sqlite"`` or ``"postgres"``."""
        if backend == "sqlite":
            return self.request.getfixturevalue("sqlite_demo").clone(folder)
        server: PostgresServer = self.request.getfixturevalue("pg")
        template: Instance = self.request.getfixturevalue("postgres_demo")
        name = f"stress_{uuid.uuid4().hex[:10]}"
        return template.clone(folder, server.create_database(name, template=DEMO_DATABASE))

    def remove(self, instance: Instance) -> None:
        """Drop a PostgreSQL copy's database (the folder goes with pytest's temporary files)."""
        if instance.database_url.startswith("postgresql"):
            server: PostgresServer = self.request.getfixturevalue("pg")
            if server.is_running():
                server.drop_database(instance.database_url.rsplit("/", 1)[1])


@pytest.fixture(scope="session")
def demo_copies(request: pytest.FixtureRequest) -> DemoCopies:
    return DemoCopies(request)


@pytest.fixture
def demo_copy(demo_copies: DemoCopies, tmp_path: Path) -> Iterator[Callable[[str], Instance]]:
    """Factory: a private copy of the demo shop for this test, on ``"sqlite"`` or ``"postgres"``."""
    made: list[Instance] = []

    def make(backend: str) -> Instance:
        made.append(demo_copies.make(backend, tmp_path / f"instance-{len(made)}"))
        return made[-1]

    yield make
    for instance in made:
        demo_copies.remove(instance)
