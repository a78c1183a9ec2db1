"""Faults and abuse: random queries, a killed import, a damaged index, concurrent article saves."""
from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import create_engine, select, text

from kb.db import commit, session, utcnow
from kb.models import Article, ArticleStatus
from tests.support.cli_helpers import NEUVO, neuvo_env, run_neuvo


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=400))
def test_random_queries_never_cause_a_server_error(demo_client, query: str) -> None:
    for url in ("/fi/search", "/api/v1/search"):
        r = demo_client.get(url, query_string={"q": query, "as_you_type": "1"})
        assert r.status_code in (200, 400), (url, query, r.status_code)  # 400 only for NUL
        if url.startswith("/api"):
            assert r.is_json


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=2000), language=st.sampled_from([None, "fi", "sv", "en", "xx"]))
def test_random_suggest_requests_never_cause_a_server_error(demo_client, text: str, language) -> None:
    r = demo_client.post("/api/v1/suggest", json={"text": text, "language": language})
    assert r.status_code in (200, 400) and r.is_json


def test_sigkill_during_an_import_leaves_all_or_nothing(tmp_path: Path, new_database) -> None:
    instance = tmp_path / "inst"
    url = new_database(instance, migrated=False)
    assert run_neuvo(instance, "init", database_url=url).returncode == 0
    rows = [{"slug": f"artikkeli-{i}", "title": f"Artikkeli {i}", "body": "Toimitus ja palautus. " * 40,
             "language": "fi", "category": "yleinen"} for i in range(4000)]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    env = neuvo_env(instance, url)  # the encoder off, as in every test not marked semantic
    counts = []
    for delay in (0.8, 1.6, 2.4):
        process = subprocess.Popen([NEUVO, "import", "articles", str(path)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        engine = create_engine(url)
        with engine.connect() as conn:
            counts.append(conn.execute(text("SELECT count(*) FROM articles")).scalar())
        engine.dispose()
        assert counts[-1] in (0, 4000), counts
    again = run_neuvo(instance, "import", "articles", str(path), database_url=url)
    assert again.returncode == 0, again.stderr


def test_truncated_index_is_rebuilt_with_zero_difference_from_the_database(demo_app, demo_client) -> None:
    index_dir = Path(demo_app.config["INDEX_PATH"])
    for f in index_dir.rglob("*"):
        if f.is_file():
            f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 3])
    assert demo_client.get("/fi/").status_code == 200  # the app starts and serves pages
    assert demo_client.get("/fi/search", query_string={"q": "palautus"}).status_code == 200  # rebuilt on use
    with demo_app.app_context():
        published = set(session().scalars(select(Article.id).where(Article.status == ArticleStatus.PUBLISHED)))
        assert demo_app.extensions["neuvo_search"].doc_ids() == published


def test_concurrent_article_saves_are_all_indexed(app) -> None:
    from kb.services.helpcenter.articles import ArticleInput, upsert_articles
    from kb.services.helpcenter.search_index import drain_outbox, ensure_index, index

    with app.app_context():
        ensure_index(session(), index())
        commit()

    def writer(worker: int) -> None:
        with app.app_context():
            for n in range(25):
                upsert_articles(session(), [ArticleInput(
                    slug=f"w{worker}-{n}", title=f"Ohje {worker} {n}", body="Palautusohje", language="fi",
                    category="yleinen")], now=utcnow())
                commit()
                drain_outbox(session(), index())
                commit()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with app.app_context():
        drain_outbox(session(), index())  # whatever a busy writer left queued
        commit()
        ids = set(session().scalars(select(Article.id)))
        assert len(ids) == 100
        assert index().doc_ids() == ids


@pytest.mark.parametrize("url", [
    "/fi/?_method=POST", "/fi/search?q=x&_method=POST&_anchor=y", "/fi/a/toimitusajat?s=99999999999999999999999",
    "/tili/tilaukset?page=99999999999999999999", "/agent/tickets/99999999999999999999",
    "/api/v1/search?q=a&page=%C2%B2", "/fi/search?q=toimitus&category=" + "x" * 200,
    "/api/v1/search?q=toimitus&category=" + "x" * 200,
])
def test_crafted_urls_never_cause_a_server_error(demo_client, url: str) -> None:
    assert demo_client.get(url).status_code < 500


def test_unicode_digits_in_forms_are_refused_cleanly(app, client, create_order) -> None:
    import re

    from tests.support.html_forms import csrf_token
    from tests.support.order_helpers import open_order_link, track

    number = create_order(status="paid")
    track(client, number, "aino@example.com")
    open_order_link(app, client, number)
    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    line_id = re.search(r'/tilaus/\d+/rivi/(\d+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    for url, data in [(f"/tilaus/{number}/rivi/{line_id}", {"quantity": "²"}),
                      (f"/tilaus/{number}/lisaa", {"sku": "TYYNY-50", "quantity": "²"})]:
        r = client.post(url, data={**data, "version": version, "csrf_token": csrf_token(page)})
        assert r.status_code == 400 and 'class="field-error"' in r.get_data(as_text=True)  # the form again, says why


def test_reset_link_ignores_a_forged_host(app, client) -> None:
    from kb.models import Role
    from kb.services.accounts.users import create_user
    from tests.fixtures.mail_helpers import sent_mail
    app.config["MAIL_BASE_URL"] = "https://apu.tupa.example"
    with app.app_context():
        create_user(session(), "aino@example.com", role=Role.CUSTOMER, password="pitkä-salasana-1", now=utcnow())
        commit()
    app.config["WTF_CSRF_ENABLED"] = False  # the cookie jar would not send the session to another host
    r = client.post("/auth/reset", data={"email": "aino@example.com"}, headers={"Host": "evil.example"})
    assert r.status_code == 302
    bodies = [m.get_body(("plain",)).get_content() for m in sent_mail(app)]
    assert any("https://apu.tupa.example/auth/reset/" in b for b in bodies)
    assert not any("evil.example" in b for b in bodies)
