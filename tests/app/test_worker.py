"""`neuvo worker`: every round sends mail, polls IMAP, updates the search index and refreshes the
suggested articles when asked or due; one failing job stops no other; SIGTERM ends it after the round."""
from __future__ import annotations

import os
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import commit, database, session, utcnow
from kb.models import GapSnapshot, MailStatus, OutgoingMail
from kb.services.helpcenter.articles import ArticleInput, upsert_articles
from kb.services.mail.transport import read_outbox
from kb.services.mail.queue import queue_mail
from kb.services.helpcenter.search_index import ensure_index, index
from kb.services.editorial.suggestion_runs import (
    RefreshState,
    refresh_due,
    refresh_state,
    request_refresh,
    start_refresh,
)
from tests.support.cli_helpers import NEUVO
from tests.conftest import both_backends, translated, wait_for
from tests.support.editor_helpers import token
from tests.fixtures.mail_helpers import free_port, fresh_apps

DAY = timedelta(hours=24)


@pytest.fixture
def make_app(tmp_path, new_database):
    with fresh_apps(tmp_path, new_database) as make:
        yield make


def outbox(app) -> list:
    """What was delivered, read without delivering anything."""
    return read_outbox(Path(app.instance_path) / "outbox")


def snapshots(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count(GapSnapshot.id)))


def work_for_every_job(app) -> None:
    """A queued mail, an article change not yet in the index, and an editor's refresh request."""
    with app.app_context():
        ensure_index(session(), index())
        commit()
        upsert_articles(session(), [ArticleInput(slug="toimitusajat", title="Toimitusajat", language="fi",
                                                 body="Toimitamme 1-3 arkipäivässä.", category="toimitus")],
                        now=utcnow())
        queue_mail(session(), "aino@example.com", "Hei", "Tilauksesi on matkalla.\n", kind="test",
                   sender="Tupa <asiakaspalvelu@tupa.example>", now=utcnow())
        request_refresh(session(), now=utcnow())
        commit()


@both_backends
def test_worker_once_does_every_job_and_one_failing_stops_none(make_app, backend: str) -> None:
    app = make_app(IMAP_HOST="127.0.0.1", IMAP_PORT=free_port(), IMAP_USERNAME="tuki", IMAP_PASSWORD="salainen",
                   IMAP_TIMEOUT=5)  # a mailbox that cannot be reached
    work_for_every_job(app)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 1, result.output  # --once reports the failed job in its status
    assert "[imap] failed: MailboxError" in result.output
    assert "[mail] sent 1, gave up 0, will retry 0" in result.output
    assert "[index] 1 article changes applied" in result.output
    assert "[suggestions] stored suggested articles" in result.output
    assert [m["To"] for m in outbox(app)] == ["aino@example.com"]
    assert snapshots(app) == 1
    with app.app_context():
        assert session().scalar(select(OutgoingMail.status)) is MailStatus.SENT
        state = refresh_state(session())
    assert not state.pending and not state.unfinished and state.last_finished_at is not None


def test_worker_once_with_nothing_to_do(app, runner) -> None:
    with app.app_context():
        session().add(GapSnapshot(created_at=utcnow(), window_start=utcnow() - timedelta(days=14),
                                  window_end=utcnow(), report={"topics": [], "inquiries": 0}))
        commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    for job in ("mail", "imap", "index", "suggestions"):
        assert f"[{job}] nothing to do" in result.output
    assert snapshots(app) == 1


@both_backends
def test_editors_refresh_request_is_run_by_the_worker(app, editor, backend: str) -> None:
    r = editor.post("/editor/suggestions/refresh", data={"csrf_token": token(editor, "/editor/suggestions")},
                    follow_redirects=True)
    html = r.get_data(as_text=True)
    assert translated(app, "Refresh requested. The background worker updates the suggestions within about a "
                           "minute; reload this page then.") in html
    assert "data-refresh-pending" in html and snapshots(app) == 0  # the request itself mined nothing
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "[suggestions] stored suggested articles" in result.output, result.output
    html = editor.get("/editor/suggestions").get_data(as_text=True)
    assert "data-refresh-pending" not in html and snapshots(app) == 1
    assert translated(app, "No run has finished yet.") not in html
    again = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "[suggestions] nothing to do" in again.output and snapshots(app) == 1  # done, and not due again


def test_refresh_is_due_when_asked_or_when_the_last_run_is_old() -> None:
    t = datetime(2026, 11, 24, 5, 15, tzinfo=UTC)
    never = RefreshState(None, None, None, None)
    assert refresh_due(never, now=t, period=DAY) and not refresh_due(never, now=t, period=None)
    ran = RefreshState(None, t, t, t)
    assert not refresh_due(ran, now=t + DAY - timedelta(minutes=1), period=DAY)
    assert refresh_due(ran, now=t + DAY, period=DAY)
    asked = RefreshState(t + timedelta(minutes=5), t, t, t)
    assert asked.pending and refresh_due(asked, now=t + timedelta(minutes=6), period=None)
    cron_only = RefreshState(None, None, None, t)  # `neuvo suggest refresh` from cron counts as a run
    assert cron_only.last_finished_at == t and not refresh_due(cron_only, now=t + timedelta(hours=1), period=DAY)
    failed = RefreshState(t, t + timedelta(minutes=1), t - DAY, t - DAY)
    assert failed.unfinished and not failed.pending  # a failed run is not retried every round
    assert not refresh_due(failed, now=t + timedelta(minutes=2), period=DAY)


@both_backends
def test_two_workers_never_both_start_one_refresh(app, backend: str) -> None:
    for _round in range(2):  # the first start inserts the stamp, later ones compare and set it
        with app.app_context():
            request_refresh(session(), now=utcnow())
            commit()
        first, second = database(app).sessions(), database(app).sessions()
        try:
            seen = refresh_state(first)
            first.rollback()
            assert start_refresh(first, seen, now=utcnow())
            first.commit()
            assert not start_refresh(second, seen, now=utcnow())  # read the same state, came second
            second.rollback()
        finally:
            first.close()
            second.close()


def test_sigterm_lets_the_round_finish_and_the_worker_exit_cleanly(app) -> None:
    with app.app_context():
        queue_mail(session(), "aino@example.com", "Hei", "Teksti\n", kind="test", sender="tupa@tupa.example",
                   now=utcnow())
        commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUVO_")}
    env.update(NEUVO_INSTANCE_PATH=app.instance_path, NEUVO_DATABASE_URL=app.config["DATABASE_URL"])
    process = subprocess.Popen([NEUVO, "worker", "--interval", "3600"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: outbox(app), timeout=60)  # the first round is under way
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)  # well before the next round, an hour away
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "[mail] sent 1" in out and out.rstrip().endswith("Neuvo worker stopped")
    assert snapshots(app) == 1  # the round's last job (no run yet: due) finished before the exit
