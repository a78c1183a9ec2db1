"""The help center under gunicorn on PostgreSQL (4 workers): load while an import and a reindex run,
a worker SIGKILLed inside a request's transaction, and the database stopped for a few seconds.

A request is caught mid-transaction without hooks in the product: the test holds a row
lock that the request needs half-way through its writes (an order line that a return
line references, the article a reply links), waits until pg_stat_activity shows the
request waiting, finds the worker by the client port of that database session, and
SIGKILLs it. gunicorn starts a new worker; the test then counts rows and sends the same
form again.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.load import (
    KINDS,
    LoadReport,
    background_writes,
    page_mix,
    published_articles,
    run_load,
)
from tests.fixtures.servers import Gunicorn, Instance, PostgresServer, gunicorn, wait_until
from tests.stress.checks import (
    assert_index_matches_database,
    blocked_client_ports,
    held_row_lock,
    mails_for_ticket,
    rows,
    scalar,
)
from tests.stress.web import Browser, Page

AINO, CUSTOMER_PASSWORD = "aino.virtanen@example.com", "demo-asiakas-2026"
AGENT, STAFF_PASSWORD = "agent@tupa.example", "demo-tupa-2026"


@pytest.fixture(scope="module")
def pg_site(pg: PostgresServer, demo_copies, tmp_path_factory) -> Iterator[tuple[Instance, Gunicorn]]:
    """The demo shop on PostgreSQL served by four workers."""
    instance = demo_copies.make("postgres", tmp_path_factory.mktemp("postgres-site") / "instance")
    with gunicorn(instance, workers=4, env={"NEUVO_RATELIMIT_ENABLED": "false"}) as server:
        yield instance, server
    demo_copies.remove(instance)


def _returnable_order(instance: Instance) -> tuple[str, list[tuple[int, int]]]:
    """Aino's order delivered a few days ago (the demo's returnable one, two lines): number, [(line id, quantity)]."""
    found = rows(instance, "SELECT o.number FROM orders o WHERE o.email = :e AND o.status = 'delivered' "
                           "AND (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) >= 2 "
                           "ORDER BY o.delivered_at DESC LIMIT 1", e=AINO)
    assert found, "the demo shop has no returnable order of Aino's with two lines"
    number = found[0][0]
    return number, rows(instance, "SELECT l.id, l.quantity FROM order_lines l JOIN orders o ON o.id = l.order_id "
                                  "WHERE o.number = :n ORDER BY l.position", n=number)


def test_every_page_answers_correctly_while_an_import_and_a_reindex_run(pg_site, tmp_path: Path) -> None:
    """Pages are checked for their content; both commands finish, and the index equals the database after."""
    instance, server = pg_site
    mix = page_mix(published_articles(instance.database_url))
    reports = []
    with background_writes(instance, tmp_path, during="both", import_size=150) as runs:
        deadline = time.monotonic() + 180
        # under load until an import and a reindex (running at the same time) have both finished
        while {r.command.split()[1] for r in runs} != {"import", "reindex"} and time.monotonic() < deadline:
            reports.append(run_load(server.base_url, mix, duration=2, concurrency=8))
    report = LoadReport(sum(r.seconds for r in reports), [s for r in reports for s in r.samples],
                        [f for r in reports for f in r.failures])
    failed = [r for r in runs if r.returncode != 0]
    assert not failed, "\n".join(f"{r.command}: {r.output}" for r in failed)
    assert {r.command.split()[1] for r in runs} == {"import", "reindex"}, "the writes did not finish in time"
    assert report.errors == 0, "\n".join(report.failures)
    assert all(report.stats(kind).requests for kind in KINDS), [report.stats(kind) for kind in KINDS]
    assert_index_matches_database(instance)


def _post_and_kill_the_worker(server: Gunicorn, pg: PostgresServer, instance: Instance, browser: Browser,
                              path: str, form: dict[str, str], lock_sql: str, lock_id: int) -> None:
    """POST ``form`` while holding ``lock_sql``; SIGKILL the worker once the request waits for it."""
    answer: list[Page | Exception] = []

    def post() -> None:
        try:
            answer.append(browser.post(path, form))
        except Exception as error:  # noqa: BLE001 - the dropped connection is the expected outcome
            answer.append(error)

    with held_row_lock(pg, instance, lock_sql, lock_id):
        thread = threading.Thread(target=post)
        thread.start()
        assert wait_until(lambda: answer or blocked_client_ports(pg, instance), 30), "the request never waited"
        assert not answer, f"the request was answered before it reached the lock: {answer}"
        worker = server.worker_with_local_port(blocked_client_ports(pg, instance)[0])
        assert worker is not None, "no worker owns the waiting database session"
        server.kill_worker(worker)
        thread.join(30)
    assert answer and isinstance(answer[0], OSError), f"the request was answered: {answer}"
    server.wait_ready(replacing=(worker,))


def test_return_registration_killed_mid_transaction_leaves_nothing_and_a_retry_registers_once(
        pg_site, pg: PostgresServer) -> None:
    instance, server = pg_site
    order, [(first, first_quantity), (second, second_quantity)] = _returnable_order(instance)
    path = f"/tilaus/{order}/palautus"
    with Browser(server.base_url) as aino:
        aino.log_in(AINO, CUSTOMER_PASSWORD)
        page = aino.get(path)
        assert page.status == 200
        key = page.hidden("idempotency_key")
        form = {"csrf_token": page.hidden("csrf_token"), "idempotency_key": key,
                f"qty-{first}": str(first_quantity), f"qty-{second}": str(second_quantity),
                "reason": "wrong_size", "resolution": "refund", "comment": "Liian pieni"}
        # the return row is written, then its lines wait for the second order line's row lock
        _post_and_kill_the_worker(server, pg, instance, aino, path, form,
                                  "SELECT id FROM order_lines WHERE id = %s FOR UPDATE", second)
        assert scalar(instance, "SELECT count(*) FROM returns WHERE idempotency_key = :k", k=key) == 0
        assert scalar(instance, "SELECT count(*) FROM return_lines WHERE order_line_id IN (:a, :b)",
                      a=first, b=second) == 0

        retry = aino.post(path, form)
        assert retry.status == 302 and retry.location.startswith("/palautus/RMA-")
        again = aino.post(path, form)  # a double click after the retry
        assert again.status == 302 and again.location == retry.location
    registered = rows(instance, "SELECT r.rma, l.order_line_id, l.quantity FROM returns r "
                                "JOIN return_lines l ON l.return_id = r.id WHERE r.idempotency_key = :k "
                                "ORDER BY l.order_line_id", k=key)
    rma = retry.location.rsplit("/", 1)[1]
    assert registered == [(rma, first, first_quantity), (rma, second, second_quantity)]


def test_reply_killed_mid_transaction_leaves_nothing_and_a_retry_sends_it_once(pg_site, pg: PostgresServer) -> None:
    instance, server = pg_site
    ticket_id, version, reference = rows(instance, "SELECT id, version, external_id FROM tickets WHERE "
                                                   "customer_email IS NOT NULL AND status <> 'closed' ORDER BY id")[0]
    article_id = scalar(instance, "SELECT min(id) FROM articles WHERE status = 'published' AND id NOT IN "
                                  "(SELECT article_id FROM ticket_article_links WHERE ticket_id = :t)", t=ticket_id)
    before = (_replies(instance, ticket_id), mails_for_ticket(instance, ticket_id, reference),
              _links(instance, ticket_id))
    path = f"/agent/tickets/{ticket_id}/reply"
    with Browser(server.base_url) as agent:
        agent.log_in(AGENT, STAFF_PASSWORD)
        page = agent.get(f"/agent/tickets/{ticket_id}")
        assert page.status == 200
        form = {"csrf_token": page.hidden("csrf_token"), "version": page.hidden("version"),
                "body": "Hei, palautusohjeet löytyvät linkitetystä artikkelista.", "linked": str(article_id),
                "status_after": "waiting"}
        # the ticket is claimed and the message written, then the link waits for the article's row lock
        _post_and_kill_the_worker(server, pg, instance, agent, path, form,
                                  "SELECT id FROM articles WHERE id = %s FOR UPDATE", article_id)
        assert (_replies(instance, ticket_id), mails_for_ticket(instance, ticket_id, reference),
                _links(instance, ticket_id)) == before
        assert scalar(instance, "SELECT version FROM tickets WHERE id = :i", i=ticket_id) == version

        retry = agent.post(path, form)
        assert retry.status == 302
        again = agent.post(path, form)  # the same page sent twice: refused as stale, nothing more sent
        assert again.status == 409
    replies, mails, links = before
    assert len(_replies(instance, ticket_id)) == len(replies) + 1
    assert mails_for_ticket(instance, ticket_id, reference) == mails + 1
    assert _links(instance, ticket_id) == links + 1


def _links(instance: Instance, ticket_id: int) -> int:
    return int(scalar(instance, "SELECT count(*) FROM ticket_article_links WHERE ticket_id = :i", i=ticket_id))


def _replies(instance: Instance, ticket_id: int) -> list[tuple]:
    return rows(instance, "SELECT id FROM ticket_messages WHERE ticket_id = :i AND kind = 'reply'", i=ticket_id)


# ---------- the database stopped for a few seconds

def _outage_pages(instance: Instance) -> list[str]:
    slug, lang = rows(instance, "SELECT slug, language FROM articles WHERE status = 'published' ORDER BY id")[0]
    return [f"/{lang}/", f"/{lang}/a/{slug}", f"/{lang}/search?q=toimitus", "/api/v1/search?q=toimitus&lang=fi",
            "/tili/tilaukset"]


def _committed_rows(instance: Instance) -> tuple:
    """Row counts of what the earlier tests and the demo committed: returns, ticket messages, articles, orders."""
    return rows(instance, "SELECT (SELECT count(*) FROM returns), (SELECT count(*) FROM ticket_messages), "
                          "(SELECT count(*) FROM articles), (SELECT count(*) FROM orders)")[0]


def test_database_outage_answers_503_and_the_app_recovers_without_a_restart(pg_site, pg: PostgresServer) -> None:
    instance, server = pg_site
    workers = server.worker_pids()
    pages = _outage_pages(instance)
    with Browser(server.base_url) as aino:
        aino.log_in(AINO, CUSTOMER_PASSWORD)
        before = {path: aino.get(path).status for path in pages}
        assert set(before.values()) == {200}, before
        profile = aino.get("/auth/profile")
        committed = _committed_rows(instance)

        pg.stop()
        try:
            for path in pages:
                page = aino.get(path)
                assert page.status == 503, (path, page.status, page.text[:300])
                assert page.headers.get("retry-after") == "5"
                if path.startswith("/api/"):
                    assert "error" in page.json()
                else:
                    assert "<h1>" in page.text and "Traceback" not in page.text
            assert aino.get("/static/css/neuvo.css").status == 200
            posted = aino.post("/auth/profile", {"csrf_token": profile.hidden("csrf_token"), "name": "Aino V"})
            assert posted.status == 503
        finally:
            pg.start()

        assert wait_until(lambda: aino.get(pages[0]).status == 200, 30), "the app did not come back"
        after = {path: aino.get(path).status for path in pages}
        assert set(after.values()) == {200}, after
    assert server.worker_pids() == workers, "workers were restarted"
    assert _committed_rows(instance) == committed


def test_unreachable_database_is_a_503_page_in_process(tmp_path: Path) -> None:
    """Without any server: the error page for a database that refuses connections (no gunicorn needed)."""
    from kb import create_app
    from tests.fixtures.servers import free_port

    app = create_app({"TESTING": True, "ENV": "testing", "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"postgresql+psycopg://neuvo@127.0.0.1:{free_port()}/none",
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()
    page = client.get("/fi/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    api = client.get("/api/v1/search?q=toimitus")
    assert api.status_code == 503 and "error" in api.get_json()
