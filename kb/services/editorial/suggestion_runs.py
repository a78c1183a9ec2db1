"""When the gap miner runs: editors ask for a run, the background worker does it.

The gap miner takes seconds to minutes, so no web request runs it. An editor's
"refresh now" stores the time of the request; ``neuvo worker`` runs the miner when a
request is newer than the last run it started, or when that run is older than the
configured period. Three timestamps in the settings table tell the state:

- ``suggestions_refresh_requested_at``: the latest editor request;
- ``suggestions_refresh_started_at``: the latest run a worker started. Starting is a
  compare-and-set on this value, so two workers on two servers never both run it;
- ``suggestions_refresh_finished_at``: when the latest successful run finished.

A run that fails still counts as started: the request is not retried every round,
only at the next request or after the period.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.models import GapSnapshot, Setting
from kb.services.shop.channels import get_setting, set_setting

REQUESTED = "suggestions_refresh_requested_at"
STARTED = "suggestions_refresh_started_at"
FINISHED = "suggestions_refresh_finished_at"


@dataclass(frozen=True)
class RefreshState:
    """The three timestamps (None when never), plus the latest stored snapshot's time."""

    requested_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    snapshot_at: datetime | None

    @property
    def pending(self) -> bool:
        """An editor asked after the latest run started."""
        return self.requested_at is not None and (self.started_at is None or self.requested_at > self.started_at)

    @property
    def unfinished(self) -> bool:
        """The latest run started and has not finished: still running, or it failed."""
        return self.started_at is not None and (self.finished_at is None or self.started_at > self.finished_at)

    @property
    def last_finished_at(self) -> datetime | None:
        """The latest successful run, also counting ``neuvo suggest refresh`` from cron."""
        known = [t for t in (self.finished_at, self.snapshot_at) if t is not None]
        return max(known) if known else None


def _stamp(session: Session, key: str) -> datetime | None:
    value = get_setting(session, key)
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def refresh_state(session: Session) -> RefreshState:
    """The current state (read only)."""
    snapshot_at = session.scalar(select(GapSnapshot.created_at).order_by(GapSnapshot.created_at.desc()).limit(1))
    return RefreshState(_stamp(session, REQUESTED), _stamp(session, STARTED), _stamp(session, FINISHED), snapshot_at)


def request_refresh(session: Session, *, now: datetime) -> None:
    """An editor asks for a run; the worker picks it up in its next round (flushes, never commits)."""
    set_setting(session, REQUESTED, now.isoformat())
    session.flush()


def refresh_due(state: RefreshState, *, now: datetime, period: timedelta | None) -> bool:
    """Whether a run is due: asked for, or the last one is older than ``period`` (None: only when asked)."""
    if state.pending:
        return True
    if period is None:
        return False
    last = max((t for t in (state.started_at, state.snapshot_at) if t is not None), default=None)
    return last is None or now - last >= period


def start_refresh(session: Session, state: RefreshState, *, now: datetime) -> bool:
    """Record that this worker starts a run; False when another one started since ``state`` was read.

    The caller commits at once, before the long run, so that other workers see it.
    """
    if state.started_at is None:
        try:
            with session.begin_nested():
                session.add(Setting(key=STARTED, value=now.isoformat()))
        except IntegrityError:
            return False
        return True
    seen = state.started_at.isoformat()  # as written: isoformat() and fromisoformat() round-trip
    result = session.execute(update(Setting).where(Setting.key == STARTED, Setting.value == seen)
                             .values(value=now.isoformat()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def finish_refresh(session: Session, *, now: datetime) -> None:
    """Record a successful run (flushes, never commits)."""
    set_setting(session, FINISHED, now.isoformat())
    session.flush()
