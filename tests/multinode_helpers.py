"""Apps of several app servers on one database, for the multi-server tests (tests/test_multinode*.py,
tests/test_deployment.py).

A node is an app on an instance folder of its own (its own INDEX_PATH and MODELS_PATH) sharing
the database with the other nodes, as app servers share PostgreSQL; the worker processes of one
node share its folder. Articles are saved with the real import command, and what a node's
visitors find is asked from its search API.
"""
from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from kb import create_app
from kb.db import commit, database, session

Node = Callable[..., Flask]


def node_config(instance: Path, url: str) -> dict:
    return {
        "TESTING": True, "ENV": "testing", "SECRET_KEY": "test-secret", "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url, "RATELIMIT_ENABLED": False, "SERVER_NAME": None, "INDEX_SYNC_SECONDS": 0,
        "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 8192,
    }


def shared_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The database all of a test's nodes use: a SQLite file, or a PostgreSQL database."""
    if backend == "postgres":
        return request.getfixturevalue("postgres_url")
    path = tmp_path / "shared.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@contextmanager
def servers(url: str, tmp_path: Path) -> Iterator[Node]:
    """Factory: the app of one app server on ``url`` (``name`` is its instance folder)."""
    apps: list[Flask] = []

    def make(name: str, **settings: object) -> Flask:
        apps.append(create_app({**node_config(tmp_path / name, url), **settings}))
        return apps[-1]

    try:
        yield make
    finally:
        for app in apps:
            app.extensions["neuvo_search"].close()
            database(app).dispose()


def article(slug: str, title: str, body: str, **extra: str) -> dict:
    return {"slug": slug, "title": title, "body": body, "language": "fi", "category": "yleinen", **extra}


def publish(app: Flask, *articles: dict) -> None:
    """Save articles on ``app``'s server with ``neuvo import articles`` (one transaction)."""
    path = Path(app.instance_path) / f"import-{uuid.uuid4().hex[:8]}.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import", "articles", str(path)])
    assert result.exit_code == 0, result.output


def search(app: Flask, query: str) -> list[str]:
    """The slugs a visitor of ``app``'s server finds for ``query``."""
    response = app.test_client().get("/api/v1/search", query_string={"q": query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [hit["slug"] for hit in response.get_json()["results"]]


def total(app: Flask, query: str) -> int:
    response = app.test_client().get("/api/v1/search", query_string={"q": query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["total"]


def drift(app: Flask):  # type: ignore[no-untyped-def]
    from kb.services.helpcenter.search_index import index, index_drift

    with app.app_context():
        return index_drift(session(), index())


def article_id(app: Flask, slug: str) -> int:
    from sqlalchemy import select

    from kb.models import Article

    with app.app_context():
        return session().scalar(select(Article.id).where(Article.slug == slug))


def check(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["reindex", "--check"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def worker_round(app: Flask) -> None:
    """What ``neuvo worker``'s index job does each round on ``app``'s server."""
    from kb.services.helpcenter.search_index import drain_outbox, index

    with app.app_context():
        drain_outbox(session(), index())
        commit()


def restore_index(app: Flask, copy: Path) -> None:
    """Put an earlier copy of the server's index folder back (as a restore from backup would)."""
    app.extensions["neuvo_search"].close()
    shutil.rmtree(app.config["INDEX_PATH"])
    shutil.copytree(copy, app.config["INDEX_PATH"])


GIFT_CARDS = article("lahjakortit", "Lahjakortit", "Lahjakortti on voimassa vuoden ostopäivästä.")
GIFT_CARDS_EDITED = article("lahjakortit", "Lahjakortit ja alennuskoodit", "Alennuskoodi syötetään kassalla.")
DELIVERY = article("toimitusajat", "Toimitusajat", "Toimitamme paketit 1-3 arkipäivässä.")
PAYMENT = article("maksutavat", "Maksutavat", "Maksa korttimaksulla tai verkkopankissa.")


@pytest.fixture
def shared_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The test's shared database (import this fixture into a test module to use it)."""
    return shared_database_url(backend, tmp_path, request)


@pytest.fixture
def node(shared_database: str, tmp_path: Path) -> Iterator[Node]:
    """Makes nodes on the shared database: ``node("a")`` (see :func:`servers`)."""
    with servers(shared_database, tmp_path) as make:
        yield make
