"""Suggested articles for editors: gap-miner snapshots with trends, and what editors decide.

A snapshot (:class:`GapSnapshot`) stores one run of the gap miner over the last
``days`` days, as ``neuvo suggest gaps --json`` prints it, with per topic:

- ``previous``: the trend base, the number of inquiries of the previous window
  (``[start - days, start)``) that clearly ask the same question. Pragmatic and
  cheap: the topic's centroid is the mean of its inquiries' vectors (the fitted
  matcher's features); an earlier inquiry counts for its most similar topic when its
  cosine to that centroid reaches what a typical member has to the others (the lower
  quartile of each member's cosine to the mean of the other members, kept between
  ``TREND_FLOOR`` and ``TREND_CEILING`` so that a topic of near-identical messages
  still counts a rephrased earlier one). Only trends are estimated this way; topics themselves come
  from the miner.
- ``tickets``: the inquiries' ticket ids, and ``example_tickets`` for each example.

Decisions (:class:`GapDecision`) keep topics from coming back as new: a topic is
hidden when more than half of its inquiries belong to a decision (drafted, covered
or dismissed), or, for dismissed topics, when its title or key terms closely match
the dismissed one (new inquiries asking the dismissed question again).
"Covered by article X" and publishing a draft made from a topic also link the
topic's inquiries to the article, so the matcher learns that the article answers them.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sklearn.preprocessing import normalize
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import (Article, ArticleStatus, GapDecision, GapDecisionKind, GapSnapshot, LinkSource,
                       Ticket)
from kb.services.errors import InvalidInput, NotFound
from kb.services.editorial.suggestions import find_gaps, inquiry_texts
from kb.services.inquiries.tickets import link_articles
from suggest import ArticleMatcher, GapReport
from suggest.describe import one_line

OVERLAP = 0.5
TERMS_MATCH = 0.6
TREND_FLOOR = 0.25
TREND_CEILING = 0.5


def flat_text(text: str) -> str:
    """``text`` on one line, whitespace folded (titles, examples and outline items)."""
    return one_line(text, limit=10_000)


def _topic_json(topic: Any, rank: int) -> dict[str, Any]:
    return {"rank": rank, "title": topic.title, "size": topic.size, "inquiry_ids": list(topic.inquiry_ids),
            "examples": list(topic.examples), "terms": list(topic.terms), "languages": dict(topic.languages),
            "channels": dict(topic.channels), "searches": [{"query": q, "count": n} for q, n in topic.searches],
            "nearest_article": topic.nearest_article, "nearest_similarity": round(topic.nearest_similarity, 4)}


def previous_counts(session: Session, matcher: ArticleMatcher | None, topics: list[dict[str, Any]], *,
                    start: datetime, days: int) -> list[int | None]:
    """Inquiries of ``[start - days, start)`` that ask each topic's question (see the module doc)."""
    if matcher is None or not topics:
        return [None] * len(topics)
    texts = inquiry_texts(session, since=start - timedelta(days=days))
    earlier = [q for q in texts if q.created_at < start]
    by_id = {q.id: q for q in texts}
    centroids, floors = [], []
    for topic in topics:
        members = [by_id[i] for i in topic["inquiry_ids"] if i in by_id]
        if not members:
            centroids.append(None)
            floors.append(1.0)
            continue
        X, _ = matcher.transform_texts([q.text for q in members], [q.language for q in members])
        total = np.asarray(X.sum(axis=0)).ravel()
        centroids.append(normalize(total[None, :]).ravel())
        floors.append(min(TREND_CEILING, max(TREND_FLOOR, _typical_closeness(X, total))))
    counts = [0] * len(topics)
    if not earlier:
        return counts
    Q, _ = matcher.transform_texts([q.text for q in earlier], [q.language for q in earlier])
    C = np.vstack([c if c is not None else np.zeros(Q.shape[1]) for c in centroids])
    sims = np.asarray(Q @ C.T)
    for row in sims:
        best = int(np.argmax(row))
        if row[best] >= floors[best]:
            counts[best] += 1
    return counts


def _typical_closeness(X: Any, total: np.ndarray) -> float:
    """Lower quartile of each member's cosine to the sum of the *other* members (0 for one member).

    Computed from dot products only, so the sparse rows are never made dense.
    """
    if X.shape[0] < 2:
        return 0.0
    own = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    with_total = np.asarray(X @ total).ravel()
    norms = np.sqrt(np.maximum(float(total @ total) - 2 * with_total + own, 0.0))
    sims = (with_total - own) / np.where(norms > 0, norms, 1.0)
    return float(np.quantile(sims, 0.25))


def _example_tickets(tickets: list[tuple[int, str]], examples: list[str]) -> list[int | None]:
    """The ticket each (cleaned, possibly shortened) example was taken from."""
    lines = [(pk, flat_text(text)) for pk, text in tickets]
    found: list[int | None] = []
    for example in examples:
        key = example.rstrip("…").strip()
        found.append(next((pk for pk, line in lines if key and key in line), None))
    return found


def build_snapshot(session: Session, report: GapReport, matcher: ArticleMatcher | None, *, days: int, top: int,
                   now: datetime) -> GapSnapshot:
    """Store the report's topics that no decision hides, with trends and ticket links."""
    decisions = active_decisions(session)
    topics = [_topic_json(t, 0) for t in report.topics]
    topics = [t for t in topics if hidden_by(t, decisions) is None][:top]
    for rank, topic in enumerate(topics, 1):
        topic["rank"] = rank
    previous = previous_counts(session, matcher, topics, start=report.window_start, days=days)
    ids = {i for t in topics for i in t["inquiry_ids"]}
    rows = session.execute(select(Ticket.id, Ticket.external_id, Ticket.subject, Ticket.body)
                           .where(Ticket.external_id.in_(ids))).all() if ids else []
    by_external = {r.external_id: (r.id, f"{r.subject}\n{r.body}".strip()) for r in rows}
    for topic, before in zip(topics, previous):
        topic["previous"] = before
        mine = [by_external[i] for i in topic["inquiry_ids"] if i in by_external]
        topic["tickets"] = [pk for pk, _ in mine]
        topic["example_tickets"] = _example_tickets(mine, [topic["title"], *topic["examples"]])
    payload = {"window": {"start": report.window_start.isoformat(), "end": report.window_end.isoformat()},
               "days": days, "inquiries": report.inquiries, "topics": topics,
               "searches": [{"query": q, "count": n} for q, n in report.searches]}
    snapshot = GapSnapshot(created_at=now, window_start=report.window_start, window_end=report.window_end,
                           report=payload)
    session.add(snapshot)
    session.flush()
    return snapshot


def refresh_snapshot(session: Session, matcher: ArticleMatcher | None, *, as_of: datetime, now: datetime,
                     days: int = 14, top: int = 10) -> GapSnapshot:
    """Run the gap miner for the window ending ``as_of`` and store a new snapshot."""
    report = find_gaps(session, matcher, as_of=as_of, days=days, top=top * 3 + 10)
    return build_snapshot(session, report, matcher, days=days, top=top, now=now)


def latest_snapshot(session: Session) -> GapSnapshot | None:
    return session.scalar(select(GapSnapshot).order_by(GapSnapshot.created_at.desc(), GapSnapshot.id.desc())
                          .limit(1))


def topic_of(session: Session, snapshot_id: int, rank: int) -> dict[str, Any]:
    """One topic of a stored snapshot; NotFound when there is no such snapshot or rank."""
    snapshot = session.get(GapSnapshot, snapshot_id)
    topics = (snapshot.report or {}).get("topics", []) if snapshot else []
    topic = next((t for t in topics if t.get("rank") == rank), None)
    if topic is None:
        raise NotFound(f"{snapshot_id}/{rank}")
    return topic


# ---------- decisions

def active_decisions(session: Session) -> list[GapDecision]:
    """Decisions that still hide topics (a draft that was deleted no longer does)."""
    rows = session.scalars(select(GapDecision).order_by(GapDecision.id)).all()
    return [d for d in rows if not (d.kind is GapDecisionKind.DRAFTED and d.article_id is None)]


def recent_decisions(session: Session, limit: int = 15) -> list[GapDecision]:
    return list(session.scalars(select(GapDecision).order_by(GapDecision.created_at.desc(), GapDecision.id.desc())
                                .limit(limit)))


def _normal_title(title: str) -> str:
    return " ".join(flat_text(title).lower().strip(" ?!.").split())


def hidden_by(topic: dict[str, Any], decisions: list[GapDecision]) -> GapDecision | None:
    """The decision that makes ``topic`` not new any more, if one does."""
    ids = set(topic["inquiry_ids"])
    terms = set(topic.get("terms") or ())
    for decision in decisions:
        if ids and len(ids & set(decision.inquiry_ids or ())) > OVERLAP * len(ids):
            return decision
        if decision.kind is GapDecisionKind.DISMISSED:
            if _normal_title(topic["title"]) == _normal_title(decision.title):
                return decision
            theirs = set(decision.terms or ())
            shared = terms & theirs
            if len(shared) >= 2 and len(shared) >= TERMS_MATCH * len(terms | theirs):
                return decision
    return None


def visible_topics(session: Session, snapshot: GapSnapshot | None) -> list[dict[str, Any]]:
    """The snapshot's topics that no decision (including ones made since the run) hides."""
    if snapshot is None:
        return []
    decisions = active_decisions(session)
    return [t for t in snapshot.report.get("topics", []) if hidden_by(t, decisions) is None]


def record_decision(session: Session, kind: GapDecisionKind, topic: dict[str, Any], *, article_id: int | None,
            reason: str, by: int | None, now: datetime) -> GapDecision:
    decision = GapDecision(kind=kind, title=topic["title"][:300], inquiry_ids=list(topic["inquiry_ids"]),
                           terms=list(topic.get("terms") or ()), article_id=article_id, reason=reason,
                           decided_by_id=by, created_at=now)
    session.add(decision)
    session.flush()
    return decision


def _link_inquiries(session: Session, inquiry_ids: list[str], article: Article, *, by: int | None,
                    now: datetime) -> int:
    """Link the inquiries to the article (the editor's judgement, recorded like an imported link)."""
    tickets = session.scalars(select(Ticket).where(Ticket.external_id.in_(inquiry_ids))).all() if inquiry_ids else []
    for ticket in tickets:
        link_articles(session, ticket, [article], source=LinkSource.IMPORT, by=by, now=now)
    session.flush()
    return len(tickets)


def cover_topic(session: Session, topic: dict[str, Any], article_id: int | None, *, by: int | None,
                now: datetime) -> GapDecision:
    """Record that a published article answers the topic, and link its inquiries to it."""
    article = session.get(Article, article_id) if article_id else None
    if article is None or article.status is not ArticleStatus.PUBLISHED:
        raise InvalidInput("choose a published article", field="article")
    _link_inquiries(session, list(topic["inquiry_ids"]), article, by=by, now=now)
    return record_decision(session, GapDecisionKind.COVERED, topic, article_id=article.id, reason="", by=by, now=now)


def dismiss_topic(session: Session, topic: dict[str, Any], reason: str, *, by: int | None,
                  now: datetime) -> GapDecision:
    """Hide the topic (and the same question asked again) with the editor's reason."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("is required", field="reason")
    return record_decision(session, GapDecisionKind.DISMISSED, topic, article_id=None, reason=reason[:500], by=by, now=now)


def learn_from_published(session: Session, article: Article, *, by: int | None, now: datetime) -> int:
    """On publishing a draft made from topics, link the topics' inquiries to it; returns tickets linked."""
    ids = [i for d in session.scalars(select(GapDecision).where(GapDecision.article_id == article.id,
                                                                GapDecision.kind == GapDecisionKind.DRAFTED))
           for i in d.inquiry_ids or ()]
    return _link_inquiries(session, sorted(set(ids)), article, by=by, now=now) if ids else 0
