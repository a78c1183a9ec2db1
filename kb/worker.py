"""``neuvo worker``: the one long-running background process of a deployment.

Every round runs each job of :mod:`kb.jobs` in turn, in a fresh app context: send due
mail, poll the IMAP mailbox (when configured), bring this node's search index up to
date, anonymise inquiries kept past the retention period, and refresh the editors'
suggested articles when asked or due. A job that fails
is logged and the round goes on with the next one. SIGTERM and SIGINT let the current
round finish, then the worker exits with status 0.

Run one worker on every node that serves the app: the search index is per node, while
mail and suggestion runs are claimed in the database, so several workers never do one
piece of that work twice.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from flask import Flask

from kb import jobs


@dataclass(frozen=True)
class JobOutcome:
    """One job of one round: its name, a line for the log (None: nothing to do), whether it failed."""

    job: str
    summary: str | None
    failed: bool = False


def _send_mail() -> str | None:
    report = jobs.send_queued_mail()
    if not (report.sent or report.failed or report.retrying):
        return None
    text = f"sent {report.sent}, gave up {report.failed}, will retry {report.retrying}"
    return text + (f" (last error: {report.last_error})" if report.last_error else "")


def _poll_mailbox() -> str | None:
    if not jobs.imap_configured():
        return None
    result = jobs.poll_mailbox()
    if not (result.fetched or result.skipped):
        return None
    skipped = "".join(f"; skipped {reason}" for reason in result.skipped)
    return (f"fetched {result.fetched}: {result.created} new tickets, {result.updated} updated, "
            f"{result.appended} replies added, {result.acknowledged} acknowledged{skipped}")


def _update_index() -> str | None:
    applied = jobs.update_search_index()
    return f"{applied} article changes applied" if applied else None


def _embed_texts() -> str | None:
    done = jobs.embed_new_texts()
    return f"{done} texts embedded for the suggester" if done else None


def _refresh_suggestions() -> str | None:
    snapshot = jobs.refresh_suggestions_if_due()
    if snapshot is None:
        return None
    return f"stored suggested articles #{snapshot.id}: {len(snapshot.report['topics'])} topics"


def _purge_personal_data() -> str | None:
    erasure = jobs.purge_personal_data_if_due()
    if erasure is None or not (erasure.tickets or erasure.mails):
        return None
    return f"retention: {erasure.tickets} inquiries anonymised, {erasure.mails} old e-mails deleted"


#: The jobs of a round, in order: the slow gap miner last, so it never delays mail.
JOBS: list[tuple[str, Callable[[], str | None]]] = [
    ("mail", _send_mail),
    ("imap", _poll_mailbox),
    ("index", _update_index),
    ("privacy", _purge_personal_data),
    ("vectors", _embed_texts),
    ("suggestions", _refresh_suggestions),
]


def run_round(app: Flask) -> list[JobOutcome]:
    """Run every job once; a failing job is logged and does not stop the others."""
    outcomes = []
    for name, job in JOBS:
        with app.app_context():
            try:
                outcomes.append(JobOutcome(name, job()))
            except Exception as error:  # one job's failure must not stop the others
                app.logger.exception("worker job %s failed", name)
                outcomes.append(JobOutcome(name, f"failed: {error.__class__.__name__}: {error}", failed=True))
    return outcomes


class Worker:
    """Rounds every ``interval`` seconds until :meth:`stop` (or a signal) asks it to end."""

    def __init__(self, app: Flask, *, interval: float, report: Callable[[JobOutcome], None]):
        self.app, self.interval, self.report = app, interval, report
        self._stopping = threading.Event()

    def stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        """Finish the current round, then end (also the SIGTERM and SIGINT handler)."""
        self._stopping.set()

    def run(self, *, once: bool = False) -> bool:
        """Run rounds; returns False when a job failed in the last round."""
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while True:
                outcomes = run_round(self.app)
                for outcome in outcomes:
                    self.report(outcome)
                if once or self._stopping.wait(self.interval):
                    return not any(o.failed for o in outcomes)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
