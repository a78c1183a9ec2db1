"""Account e-mails asked for by someone who is not logged in, handled after the answer.

``/auth/reset`` must not tell whether an address has an account, by its words or by its
time: looking the address up, revoking old links, storing a new one and composing the mail
happen only for a known address, and took measurably longer. So the request only stores what
was typed (:func:`queue_request`, the same single INSERT for any address) and the worker
does the rest (:func:`claim_requests`, then :mod:`kb.mailing.account_requests`).

A request is claimed by deleting its row in the worker's transaction: of two workers only one
deletes it, and a worker that fails rolls the delete back, so the request is handled once.
Nothing typed by a stranger is kept after that.

Plain functions over a session: they flush but never commit, and take the time as ``now``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kb.models import AccountMailRequest

#: Kinds of request: a password-reset link.
RESET = "reset"
#: Requests handled per run.
BATCH = 200


@dataclass(frozen=True)
class ClaimedRequest:
    kind: str
    email: str
    base_url: str
    created_at: datetime


def queue_request(session: Session, kind: str, email: str, *, base_url: str, now: datetime) -> None:
    """Store the request as typed (trimmed, at most 254 characters); one INSERT whatever the address."""
    session.add(AccountMailRequest(kind=kind, email=(email or "").strip()[:254], base_url=base_url[:300],
                                   created_at=now))
    session.flush()


def claim_requests(session: Session, *, limit: int = BATCH) -> list[ClaimedRequest]:
    """Take up to ``limit`` requests, oldest first, deleting their rows (see the module's contract)."""
    rows = session.scalars(select(AccountMailRequest).order_by(AccountMailRequest.id).limit(limit)).all()
    claimed = []
    for row in rows:
        taken = session.execute(delete(AccountMailRequest).where(AccountMailRequest.id == row.id)
                                .execution_options(synchronize_session=False)).rowcount
        if taken == 1:
            claimed.append(ClaimedRequest(row.kind, row.email, row.base_url, row.created_at))
        session.expunge(row)
    session.flush()
    return claimed
