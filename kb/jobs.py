"""The background jobs: sending queued mail, polling the IMAP mailbox, refreshing the editors'
suggested articles and bringing this node's search index up to date.

``neuvo worker`` runs them all in rounds; ``neuvo mail send``, ``neuvo mail poll`` and
``neuvo suggest refresh`` run one each. Every job works in the current app context's
session and commits its own work; none runs inside a web request.
"""
from __future__ import annotations

import imaplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from kb.db import commit, session, utcnow
from kb.mailing.emailing import mail_config
from kb.models import GapSnapshot
from kb.services.editorial import suggestion_runs
from kb.services.editorial.suggestions import attach_suggestions, matchers
from kb.services.errors import InvalidInput
from kb.services.mail.queue import DEFAULT_LIMIT, DeliveryReport, deliver_queued


class MailboxError(Exception):
    """The IMAP server could not be reached or refused us; nothing was stored or marked seen."""


@dataclass(frozen=True)
class PollResult:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    appended: int = 0
    #: New tickets answered with an acknowledgement (see :mod:`kb.mailing.acknowledgements`).
    acknowledged: int = 0
    #: Messages left unseen in the mailbox for a person to look at: "uid: reason".
    skipped: list[str] = field(default_factory=list)


def store_mails(mails: list[Any]) -> Any:
    """Tickets from parsed mail (``ParsedMail``), with suggestions attached (the caller commits)."""
    from kb.services.inquiries.email_intake import ingest_mails

    now = utcnow()
    result = ingest_mails(session(), mails, now=now)
    attach_suggestions(session(), result.tickets, matchers().current(session()), now=now)
    return result


def send_queued_mail(*, limit: int = DEFAULT_LIMIT, now: datetime | None = None) -> DeliveryReport:
    """Make the reset links asked for on the site (kb/mailing/account_requests.py), then send the mail that is due
    (see :mod:`kb.services.mail.queue`)."""
    from kb.mailing.account_requests import handle_account_requests

    session().rollback()  # delivery commits as it goes: start from a clean transaction
    handle_account_requests(now=now)  # reset links asked for on the site: made and queued first
    return deliver_queued(session(), mail_config(), now=now or utcnow(), limit=limit)


def imap_configured() -> bool:
    from kb.services.inquiries.imap_mailbox import imap_configured as configured

    return configured(current_app.config)


def poll_mailbox() -> PollResult:
    """Fetch unseen messages over IMAP (SSL) into tickets; marked seen once stored and committed."""
    from kb.services.inquiries.email_intake import parse_message
    from kb.services.inquiries.imap_mailbox import Mailbox, hold_intake_lock

    config = current_app.config
    mails, uids, skipped = [], [], []
    try:
        with Mailbox(config) as box:
            for uid, raw in box.unseen():
                try:
                    mails.append(parse_message(raw, max_files=config["ATTACHMENT_MAX_FILES"],
                                               max_bytes=config["ATTACHMENT_MAX_BYTES"],
                                               allowed=config["ATTACHMENT_TYPES"]))
                    uids.append(uid)
                except InvalidInput as error:
                    skipped.append(f"{uid.decode()}: {error.describe()}")
            hold_intake_lock(session())
            result, acknowledged = receive_mails(mails)
            commit()
            box.mark_seen(uids)
    except (imaplib.IMAP4.error, OSError) as error:
        session().rollback()
        raise MailboxError(f"IMAP {config['IMAP_HOST']}: {error}") from error
    return PollResult(len(mails), result.created, result.updated, result.appended, acknowledged, skipped)


def receive_mails(mails: list[Any]) -> tuple[Any, int]:
    """Live mail (``ParsedMail``) into tickets, each new one from a person acknowledged when that is on.

    Returns the import and the number acknowledged; the caller commits. ``neuvo import
    email`` stores old mail without this: its senders were answered long ago.
    """
    from kb.mailing.acknowledgements import acknowledge_mails

    result = store_mails(mails)
    acknowledged = 0
    if current_app.config["EMAIL_ACKNOWLEDGEMENT"]:
        acknowledged = acknowledge_mails(session(), result.from_people, now=utcnow())
    return result, acknowledged


def run_gap_refresh(*, as_of: datetime | None = None, days: int = 14, top: int = 10,
                    progress: Callable[[str], None] | None = None) -> GapSnapshot:
    """Run the gap miner over the window ending ``as_of`` (default now) and store the editors' list."""
    from kb.services.editorial.gap_review import refresh_snapshot

    now = utcnow()
    matcher = matchers().current(session(), progress=progress)
    snapshot = refresh_snapshot(session(), matcher, as_of=as_of or now, now=now, days=days, top=top)
    suggestion_runs.finish_refresh(session(), now=utcnow())
    commit()
    return snapshot


def refresh_suggestions_if_due(*, now: datetime | None = None) -> GapSnapshot | None:
    """Run the gap miner when an editor asked for it or the last run is older than SUGGEST_REFRESH_HOURS."""
    now = now or utcnow()
    hours = float(current_app.config.get("SUGGEST_REFRESH_HOURS") or 0)
    db = session()
    state = suggestion_runs.refresh_state(db)
    if not suggestion_runs.refresh_due(state, now=now, period=timedelta(hours=hours) if hours > 0 else None):
        db.rollback()
        return None
    if not suggestion_runs.start_refresh(db, state, now=now):
        db.rollback()
        return None
    commit()
    return run_gap_refresh()


def embed_new_texts(*, limit: int | None = None) -> int:
    """Store sentence-encoder vectors for texts that have none yet (one batch), then re-rank those inquiries.

    Inquiries stored by the contact form, the API or mail were ranked on TF-IDF alone (no vector
    yet); once embedded, their stored suggestions are made again with the semantic signal.
    Returns how many texts were embedded (0 when the encoder is off or unavailable).
    """
    from sqlalchemy import select

    from kb.models import Ticket
    from kb.services.editorial.suggestions import attach_suggestions
    from kb.services.editorial.text_vectors import WORKER_BATCH, embed_missing, missing_texts, ticket_text

    store = matchers()
    encoder = store.encoder()
    if encoder is None:
        return 0
    db = session()
    texts = missing_texts(db, encoder)[: limit or WORKER_BATCH]
    done = embed_missing(db, encoder, texts=texts)
    if done:
        fresh = set(texts)
        recent = db.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(5 * (limit or WORKER_BATCH))).all()
        tickets = [t for t in recent if ticket_text(t.subject, t.body) in fresh]
        if tickets:
            attach_suggestions(db, tickets, store.current(db), now=utcnow())
    commit()
    return done


def update_search_index() -> int:
    """Apply queued article changes to this node's search index; returns how many were applied."""
    from kb.services.helpcenter.search_index import drain_outbox, index

    applied = drain_outbox(session(), index())
    commit()
    return applied


#: How often the retention run looks for inquiries kept too long (it is idempotent and cheap when none are).
PURGE_EVERY = timedelta(hours=6)
_last_purge: dict[str, datetime] = {}


def purge_personal_data_if_due(*, now: datetime | None = None) -> Any:
    """Anonymise inquiries past ``PERSONAL_DATA_RETENTION_DAYS`` and delete old log-in records
    (at most every PURGE_EVERY per process).

    Returns the :class:`kb.services.accounts.privacy.Erasure`, or None when the retention run is off or not due.
    """
    from kb.services.accounts import login_sessions
    from kb.services.accounts.privacy import purge_expired

    days = int(current_app.config["PERSONAL_DATA_RETENTION_DAYS"] or 0)
    now = now or utcnow()
    key = current_app.config["DATABASE_URL"]
    if key in _last_purge and now - _last_purge[key] < PURGE_EVERY:
        return None
    remembered = current_app.config["REMEMBER_COOKIE_DURATION"]
    login_sessions.prune(session(), now=now, idle=remembered if isinstance(remembered, timedelta)
                         else timedelta(seconds=float(remembered)))
    erasure = purge_expired(session(), now=now, days=days) if days > 0 else None
    commit()
    _last_purge[key] = now
    return erasure
