"""The help center under real gunicorn workers (4, SQLite demo shop): load, and faults of the search index.

* Load: home, search, article and search-as-you-type pages from eight concurrent clients;
  every answer is checked for its content (timings are bench/load.py's business, not
  asserted here). The same while an import and a reindex run is in test_stress_postgres.py:
  on SQLite those commands hold the write lock that every page view waits for
  (bench/README_stress.md).
* ``neuvo reindex`` SIGKILLed mid-build: the live index keeps serving, the next reindex
  succeeds and leaves no temporary build behind, the index equals the database.
* The index folder deleted, or its files truncated, while the workers serve: pages
  answer (search says "temporarily unavailable" or rebuilds), never a 500, and the
  index is rebuilt equal to the database.
"""
from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from http.client import HTTPException
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from bench.load import KINDS, Article, page_mix, published_articles, run_load
from tests.fixtures.servers import Gunicorn, Instance, gunicorn, wait_until
from tests.stress.checks import assert_index_matches_database
from tests.stress.web import Browser

WORKERS = 4
CLIENTS = 8
UNAVAILABLE_NOTICE = 'class="notice" role="alert"'


class WorkerCrashed(AssertionError):
    """A worker process died under a request: the client's connection was dropped without an answer."""


class BuildLeftBehind(AssertionError):
    """A killed rebuild's temporary folder was still there after the next rebuild."""


@pytest.fixture(scope="module")
def site(demo_copies, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Instance, Gunicorn]]:
    instance = demo_copies.make("sqlite", tmp_path_factory.mktemp("help-center") / "instance")
    with gunicorn(instance, workers=WORKERS, env={"NEUVO_RATELIMIT_ENABLED": "false"}) as server:
        yield instance, server


@pytest.fixture(scope="module")
def demo_articles(site: tuple[Instance, Gunicorn]) -> list[Article]:
    return published_articles(site[0].database_url)


def test_every_page_answers_correctly_under_load(site, demo_articles) -> None:
    _, server = site
    report = run_load(server.base_url, page_mix(demo_articles), duration=4, concurrency=CLIENTS)
    assert report.errors == 0, "\n".join(report.failures)
    assert all(report.stats(kind).requests for kind in KINDS), [report.stats(kind) for kind in KINDS]


# ---------- faults of the index

def _search_path(article: Article) -> tuple[str, str]:
    return f"/{article.language}/search?q={quote_plus(article.title)}", f"/{article.language}/a/{article.slug}"


def _hammer(server: Gunicorn, paths: list[str], rounds: int = 2) -> list[tuple[str, int, str]]:
    """Ask for every path ``rounds`` times from one client per worker at once; (path, status, body).

    A dropped connection (a worker died) is status 0 with the error as its body.
    """
    answers: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def client() -> None:
        with Browser(server.base_url) as browser:
            for _ in range(rounds):
                for path in paths:
                    try:
                        page = browser.get(path)
                        answer = (path, page.status, page.text)
                    except (OSError, HTTPException) as error:
                        answer = (path, 0, f"{error.__class__.__name__}: {error}\n{server.log[-3000:]}")
                    with lock:
                        answers.append(answer)

    threads = [threading.Thread(target=client) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _assert_pages_answer(server: Gunicorn, article: Article) -> None:
    """Home and article pages work; search works or says it is temporarily unavailable; no 500."""
    search, link = _search_path(article)
    for path, status, body in _hammer(server, [f"/{article.language}/", f"/{article.language}/a/{article.slug}",
                                               search, f"/api/v1/search?q={article.slug}&as_you_type=1"]):
        if status == 0:
            raise WorkerCrashed(f"{path}: {body}")
        if path == search:
            assert (status == 200 and link in body) or (status == 503 and UNAVAILABLE_NOTICE in body), \
                (path, status, body[:500])
        elif path.startswith("/api/"):
            assert status in (200, 503), (path, status, body[:500])
        else:
            assert status == 200, (path, status, body[:500])


def _search_finds(server: Gunicorn, article: Article) -> bool:
    """Every worker's search finds the article by its title."""
    search, link = _search_path(article)
    return all(status == 200 and link in body for _, status, body in _hammer(server, [search], rounds=1))


def _search_recovers(server: Gunicorn, article: Article) -> None:
    assert wait_until(lambda: _search_finds(server, article), 90, 0.5), \
        "search did not come back after the index was rebuilt"


def _builds(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name.startswith(".tmp-")) if index.exists() else []


def test_killed_reindex_keeps_the_live_index_and_the_next_one_cleans_up(site, demo_articles) -> None:
    instance, server = site
    article = demo_articles[0]
    assert _builds(instance.index_path) == []
    process = instance.start_neuvo("reindex")
    try:
        assert wait_until(lambda: process.poll() is not None or _builds(instance.index_path), 120, 0.005)
        assert process.poll() is None, "reindex finished before it could be killed"
        time.sleep(0.2)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert _builds(instance.index_path), "the kill did not land mid-build"

    assert _search_finds(server, article), "the live index stopped serving"
    _assert_pages_answer(server, article)
    rerun = instance.neuvo("reindex", check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    _assert_pages_answer(server, article)
    assert_index_matches_database(instance)
    if _builds(instance.index_path):
        raise BuildLeftBehind(f"{_builds(instance.index_path)} left in {instance.index_path} after the next reindex")


def test_deleted_index_is_rebuilt_without_a_server_error(site, demo_articles) -> None:
    instance, server = site
    article = demo_articles[1]
    _assert_pages_answer(server, article)
    shutil.rmtree(instance.index_path)
    _assert_pages_answer(server, article)
    _search_recovers(server, article)
    assert_index_matches_database(instance)


def test_truncated_index_is_rebuilt_without_a_server_error(site, demo_articles) -> None:
    """Every file cut to a third under the workers' memory maps: no worker dies of SIGBUS
    (search.storage.shrunk_files), search says unavailable or rebuilds, never a 500."""
    instance, server = site
    article = demo_articles[2]
    _assert_pages_answer(server, article)
    live = instance.index_path / (instance.index_path / "CURRENT").read_text().strip()
    for file in live.iterdir():
        if file.is_file():
            os.truncate(file, file.stat().st_size // 3)
    _assert_pages_answer(server, article)
    _search_recovers(server, article)
    assert_index_matches_database(instance)
    assert sorted(server.worker_pids()) == sorted(server.ready_workers()), "a worker was lost"
