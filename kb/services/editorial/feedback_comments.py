"""What was missing: the short note a reader adds to a "not helpful" answer, for the editors.

One note per "no" answer, written once (a second post changes nothing), at most
:data:`COMMENT_MAX` characters; the article's health page lists the newest ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb.models import Article, ArticleFeedback
from kb.services.errors import InvalidInput

COMMENT_MAX = 500


@dataclass(frozen=True)
class MissingNote:
    """One reader's note and when the answer was given."""

    comment: str
    created_at: datetime


def add_missing_note(session: Session, article: Article, *, visitor: str, comment: str) -> bool:
    """Attach ``comment`` to the visitor's "no" answer on ``article``; False when there is none or it has one."""
    comment = " ".join(comment.split())
    if not comment:
        raise InvalidInput("is required", field="comment")
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(f"at most {COMMENT_MAX} characters", field="comment")
    result = session.execute(
        update(ArticleFeedback)
        .where(ArticleFeedback.article_id == article.id, ArticleFeedback.visitor == visitor,
               ArticleFeedback.helpful.is_(False), ArticleFeedback.comment == "")
        .values(comment=comment).execution_options(synchronize_session=False))
    return result.rowcount == 1


def missing_notes(session: Session, article: Article, *, limit: int = 20) -> list[MissingNote]:
    """The newest notes on ``article``, newest first."""
    rows = session.execute(
        select(ArticleFeedback.comment, ArticleFeedback.created_at)
        .where(ArticleFeedback.article_id == article.id, ArticleFeedback.comment != "")
        .order_by(ArticleFeedback.created_at.desc(), ArticleFeedback.id.desc()).limit(limit))
    return [MissingNote(comment, created_at) for comment, created_at in rows]
