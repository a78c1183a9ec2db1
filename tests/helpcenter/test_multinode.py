"""Several app servers on one database, several worker processes on each: every server's own
search index stays correct (issue 7; RELIABILITY.md: "100 article saves from 4 workers -> 100
indexed"). Nodes and helpers: tests/fixtures/multinode_helpers.py.
"""
from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from kb import create_app
from kb.db import commit, database, session, utcnow
from tests.conftest import both_backends, wait_for
from tests.fixtures.multinode_helpers import (
    DELIVERY,
    GIFT_CARDS,
    GIFT_CARDS_EDITED,
    PAYMENT,
    Node,
    article,
    article_id,
    check,
    drift,
    node_config,
    publish,
    restore_index,
    search,
    total,
    worker_round,
)

# ---------- one database, two servers


@both_backends
def test_an_article_saved_on_one_server_is_found_on_the_other(node: Node, backend: str) -> None:
    a, b = node("a"), node("b")
    publish(a, DELIVERY)
    assert search(a, "toimitusajat") == ["toimitusajat"]  # a's index is built

    publish(b, GIFT_CARDS)
    assert search(a, "lahjakortti") == ["lahjakortit"]
    publish(b, GIFT_CARDS_EDITED)
    assert search(a, "alennuskoodi") == ["lahjakortit"]
    assert search(a, "voimassa") == []
    publish(b, dict(GIFT_CARDS_EDITED, status="draft"))
    assert search(a, "alennuskoodi") == []
    assert search(a, "toimitusajat") == ["toimitusajat"]
    assert check(a)[0] == 0 and check(b)[0] == 0


@both_backends
def test_a_server_restored_from_an_old_copy_of_its_index_catches_up(node: Node, tmp_path: Path,
                                                                     backend: str) -> None:
    a, b = node("a"), node("b")
    publish(a, DELIVERY, PAYMENT)
    assert search(a, "verkkopankissa") == ["maksutavat"]
    shutil.copytree(a.config["INDEX_PATH"], tmp_path / "backup")
    publish(b, GIFT_CARDS)
    publish(b, dict(PAYMENT, status="draft"))
    assert search(a, "lahjakortti") == ["lahjakortit"]

    restore_index(a, tmp_path / "backup")
    assert search(a, "lahjakortti") == ["lahjakortit"]
    assert search(a, "verkkopankissa") == []
    assert drift(a).clean


@both_backends
@pytest.mark.parametrize("pruner", ["neuvo reindex", "neuvo worker"])
def test_a_server_behind_the_pruned_change_log_rebuilds_in_full(node: Node, tmp_path: Path, backend: str,
                                                                pruner: str) -> None:
    a, b = node("a"), node("b")
    publish(a, DELIVERY, PAYMENT)
    assert search(a, "toimitusajat") == ["toimitusajat"]
    shutil.copytree(a.config["INDEX_PATH"], tmp_path / "backup")
    publish(b, GIFT_CARDS)
    publish(b, dict(PAYMENT, status="draft"))
    publish(b, dict(DELIVERY, body="Toimitamme paketit noutopisteeseen."))
    pruning = node("b", INDEX_CHANGE_RETENTION_DAYS=0)  # a process of server b, started now
    if pruner == "neuvo reindex":  # either prunes all but the newest change
        assert pruning.test_cli_runner().invoke(args=["reindex"]).exit_code == 0
    else:
        worker_round(pruning)

    restore_index(a, tmp_path / "backup")
    # Visitors' searches keep working on the old index (a rebuild is left to the worker) ...
    assert search(a, "verkkopankissa") == ["maksutavat"]
    worker_round(a)
    # ... which rebuilds it: only the last change is left in the log, so a finds the
    # earlier two only because it rebuilt.
    assert search(a, "lahjakortti") == ["lahjakortit"]
    assert search(a, "verkkopankissa") == []
    assert search(a, "noutopisteeseen") == ["toimitusajat"]
    assert drift(a).clean


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_change_that_commits_after_a_later_one_is_not_skipped(node: Node, backend: str) -> None:
    """Change ids are handed out in commit order, so a checkpoint never jumps over a slow transaction.

    PostgreSQL only: on SQLite every transaction takes the write lock at BEGIN, so a slow
    writer holds off all the others, readers too."""
    from kb.services.helpcenter.articles import ArticleInput, upsert_articles
    from kb.services.helpcenter.search_index import drain_outbox, index

    a, b = node("a"), node("b")
    publish(a, DELIVERY)
    assert search(a, "toimitusajat") == ["toimitusajat"]
    slow = database(b).sessions()  # an editor's save that is slow to commit
    upsert_articles(slow, [ArticleInput(slug="hidas", title="Hidas tallennus", body="Etana tallentaa hitaasti.",
                                        language="fi", category="yleinen")], now=utcnow())
    slow.flush()

    def later_save() -> None:
        with b.app_context():
            upsert_articles(session(), [ArticleInput(**GIFT_CARDS)], now=utcnow())
            commit()
            drain_outbox(session(), index())

    later = threading.Thread(target=later_save)
    later.start()
    wait_for(lambda: not later.is_alive(), timeout=3)  # it waits for the slow one (else it has committed)
    search(a, "lahjakortti")  # server a syncs meanwhile
    slow.commit()
    slow.close()
    later.join(30)
    assert search(a, "lahjakortti") == ["lahjakortit"]
    assert search(a, "etana") == ["hidas"]
    assert drift(a).clean


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_database_restored_from_backup_makes_servers_rebuild(node: Node, shared_database: str,
                                                               tmp_path: Path) -> None:
    a, b = node("a"), node("b")
    publish(a, DELIVERY)
    assert search(a, "toimitusajat") == ["toimitusajat"]
    database_file = Path(shared_database.removeprefix("sqlite:///"))
    backup = tmp_path / "backup.db"
    with closing(sqlite3.connect(database_file)) as live, closing(sqlite3.connect(backup)) as copy:
        live.backup(copy)
    publish(b, GIFT_CARDS)
    assert search(a, "lahjakortti") == ["lahjakortit"]

    for app in (a, b):
        database(app).dispose()
    with closing(sqlite3.connect(backup)) as copy, closing(sqlite3.connect(database_file)) as live:
        copy.backup(live)
    worker_round(a)
    assert search(a, "lahjakortti") == []  # the index was ahead of the restored log
    assert search(a, "toimitusajat") == ["toimitusajat"]
    assert drift(a).clean


@both_backends
def test_a_crash_between_index_write_and_checkpoint_applies_the_changes_again(node: Node, backend: str) -> None:
    a, b = node("a"), node("b")
    publish(a, DELIVERY, PAYMENT)
    assert search(a, "toimitusajat") == ["toimitusajat"]
    root = Path(a.config["INDEX_PATH"])
    checkpoint = root / (root / "CURRENT").read_text().strip() / "checkpoint.json"
    before = checkpoint.read_bytes()
    publish(b, GIFT_CARDS, dict(PAYMENT, status="draft"))
    assert search(a, "lahjakortti") == ["lahjakortit"]
    # The state a crash right after Whoosh's commit leaves: the changes in the index, the
    # checkpoint still before them.
    checkpoint.write_bytes(before)

    publish(b, GIFT_CARDS_EDITED, article("palautukset", "Palautukset", "Palauta tuote 30 päivän kuluessa."))
    assert search(a, "alennuskoodi") == ["lahjakortit"]
    assert search(a, "voimassa") == []
    assert search(a, "verkkopankissa") == []
    assert search(a, "palauta") == ["palautukset"]
    assert total(a, "lahjakortit") == 1
    assert drift(a).clean


# ---------- several worker processes on one server


def _search_while_others_write(instance: str, url: str, stop: object) -> tuple[list[str], list[int]]:
    """A worker of server a: searches (each one syncing the index) until ``stop`` is set, then syncs once more."""
    from kb.services.helpcenter.search_index import drain_outbox, index

    app = create_app(node_config(Path(instance), url))
    client, errors, totals = app.test_client(), [], []
    try:
        while True:
            stopping = stop.is_set()  # type: ignore[attr-defined]
            response = client.get("/api/v1/search", query_string={"q": "seepra"})
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.get_data(as_text=True)[:200]}")
            else:
                totals.append(response.get_json()["total"])
            if stopping:
                break
        with app.app_context():
            drain_outbox(session(), index())  # what the worker's index job does each round
    except Exception as error:  # noqa: BLE001 (reported to the test)
        errors.append(repr(error))
    finally:
        app.extensions["neuvo_search"].close()
        database(app).dispose()
    return errors, totals


@both_backends
def test_two_workers_syncing_at_once_leave_a_correct_index(node: Node, shared_database: str, backend: str) -> None:
    a, b = node("a"), node("b")
    publish(a, DELIVERY)
    assert search(a, "toimitusajat") == ["toimitusajat"]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        stop = manager.Event()
        pending = [pool.apply_async(_search_while_others_write, (a.instance_path, shared_database, stop))
                   for _ in range(2)]
        for batch in range(6):
            publish(b, *[article(f"seepra-{batch}-{n}", f"Seepraohje {batch}.{n}", "Seepra on raidallinen.")
                         for n in range(5)])
        stop.set()
        results = [p.get(timeout=300) for p in pending]
    for errors, totals in results:
        assert errors == []
        assert totals == sorted(totals)  # a reader never saw a half-written index lose articles
    assert drift(a).clean
    assert total(a, "seepra") == 30


def _save_articles(instance: str, url: str, worker: int, count: int) -> list[str]:
    """A worker of server a saving articles one at a time, as the editor view does."""
    from kb.services.helpcenter.articles import ArticleInput, upsert_articles
    from kb.services.helpcenter.search_index import drain_outbox, index

    app = create_app(node_config(Path(instance), url))
    errors = []
    with app.app_context():
        for n in range(count):
            try:
                upsert_articles(session(), [ArticleInput(slug=f"ohje-{worker}-{n}", title=f"Ohje {worker}.{n}",
                                                         body="Kirahvi on pitkäkaulainen.", language="fi",
                                                         category="yleinen")], now=utcnow())
                commit()
                drain_outbox(session(), index())
                commit()
            except Exception as error:  # noqa: BLE001 (reported to the test)
                session().rollback()
                errors.append(repr(error))
    app.extensions["neuvo_search"].close()
    database(app).dispose()
    return errors


@both_backends
def test_100_article_saves_from_4_workers_are_all_indexed(node: Node, shared_database: str, backend: str) -> None:
    a, b = node("a"), node("b")
    publish(a, DELIVERY)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_save_articles, [(a.instance_path, shared_database, w, 25) for w in range(4)])
    assert results == [[], [], [], []]
    assert drift(a).clean  # applied by the workers themselves, before any search
    assert total(a, "kirahvi") == 100
    assert total(b, "kirahvi") == 100  # the other server catches up on its first search
    assert check(b)[0] == 0


# ---------- neuvo reindex --check


@both_backends
def test_reindex_check_lists_the_differences_and_exits_1(node: Node, backend: str) -> None:
    from kb.services.helpcenter.search_index import IndexDrift

    a, b = node("a"), node("b")
    publish(a, DELIVERY, PAYMENT)
    code, output = check(a)
    assert code == 0 and "matches the database" in output

    publish(b, GIFT_CARDS, dict(DELIVERY, title="Toimitusajat ja -kulut"), dict(PAYMENT, status="draft"))
    code, output = check(a)  # a has not searched since: its index lags
    assert code == 1
    assert f"1 published, missing from the index: {article_id(a, 'lahjakortit')} lahjakortit" in output
    assert f"1 published, outdated in the index: {article_id(a, 'toimitusajat')} toimitusajat" in output
    assert f"1 in the index, not published: {article_id(a, 'maksutavat')} maksutavat" in output
    assert drift(a) == IndexDrift(missing=frozenset({article_id(a, "lahjakortit")}),
                                  extra=frozenset({article_id(a, "maksutavat")}),
                                  stale=frozenset({article_id(a, "toimitusajat")}))

    assert a.test_cli_runner().invoke(args=["reindex"]).exit_code == 0
    code, output = check(a)
    assert code == 0 and "matches the database" in output
    shutil.rmtree(a.config["INDEX_PATH"])
    a.extensions["neuvo_search"].close()
    code, output = check(a)
    assert code == 1 and "unavailable" in output


# ---------- upgrading: the old queue becomes the log


@pytest.fixture
def empty_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if backend != "postgres":
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    from sqlalchemy import create_engine, text

    server = request.getfixturevalue("postgres_server")
    name = f"u_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{server}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@both_backends
def test_articles_queued_before_the_upgrade_reach_every_server(empty_database: str, tmp_path: Path,
                                                                backend: str) -> None:
    """Upgrading from the delete-on-drain outbox (revision 0006): what was queued is not lost."""
    from alembic import command
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from kb.migrate import alembic_config, upgrade
    from kb.models import Article, ArticleStatus, Category

    engine = create_engine(empty_database)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    with Session(engine) as old:  # rows as the old code left them (only the columns revision 0006 has)
        category = Category(slug="yleinen", names={"fi": "Yleinen"}, descriptions={})
        old.add(category)
        old.flush()
        old.execute(Article.__table__.insert(), [
            dict(id=1, slug="toimitusajat", language="fi", title="Toimitusajat", body=DELIVERY["body"],
                 category_id=category.id, tags=[], status=ArticleStatus.PUBLISHED),
            dict(id=2, slug="maksutavat", language="fi", title="Maksutavat", body=PAYMENT["body"],
                 category_id=category.id, tags=[], status=ArticleStatus.DRAFT)])
        old.commit()
        old.execute(text("INSERT INTO index_outbox (article_id, queued_at) VALUES "
                         "(1, '2026-11-20 10:00:00'), (2, '2026-11-20 10:00:01')"))
        old.commit()
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT article_id FROM index_changes ORDER BY id")).scalars().all() == [1, 2]
    engine.dispose()
    b = create_app(node_config(tmp_path / "b", empty_database))
    assert search(b, "toimitusajat") == ["toimitusajat"]
    assert search(b, "verkkopankissa") == []
    assert check(b)[0] == 0
    publish(b, dict(PAYMENT, status="published"))
    assert search(b, "verkkopankissa") == ["maksutavat"]
    database(b).dispose()
