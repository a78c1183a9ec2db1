"""The editor's one ranked list: unanswered topics and the zero-result searches that join none.

A gap-miner snapshot (:mod:`kb.services.editorial.gap_review`) holds, per topic, the zero-result
searches that ask the same question (``searches``: ``[{"query", "count"}]``, counted as
evidence for the topic) and, for the whole window, the searches that matched no topic.
:func:`ranked_entries` merges both into one list ordered by evidence: a topic weighs its
inquiries plus its joined searches, a lone search its count. Snapshots stored before
searches were joined (``searches`` a number, no window list) read as topics without
joined searches plus the window's zero-result searches, as the page showed them then.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kb.models import GapSnapshot
from kb.services.helpcenter.search_log import top_failed_queries


@dataclass(frozen=True)
class Entry:
    """One line of the ranked list: a topic (dict as stored) or a lone search."""

    weight: int
    topic: dict[str, Any] | None = None
    query: str = ""
    count: int = 0


def topic_searches(topic: dict[str, Any]) -> list[dict[str, Any]]:
    """The searches joined to a stored topic (an empty list for snapshots that stored only a number)."""
    found = topic.get("searches")
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


def lone_searches(session: Session, snapshot: GapSnapshot | None) -> list[tuple[str, int]]:
    """Zero-result searches of the snapshot's window that joined no topic."""
    if snapshot is None:
        return []
    stored = snapshot.report.get("searches")
    if isinstance(stored, list):
        return [(s["query"], int(s["count"])) for s in stored if isinstance(s, dict)]
    days = snapshot.report.get("days") or 14
    return top_failed_queries(session, now=snapshot.window_end, days=days, limit=15)


def ranked_entries(session: Session, snapshot: GapSnapshot | None, topics: list[dict[str, Any]], *,
                   limit: int = 15) -> list[Entry]:
    """Topics and lone searches in one list, most evidence first (topics before searches on ties).

    At most ``limit`` lone searches are listed; every topic is.
    """
    entries = [Entry(weight=int(t.get("size", 0)) + sum(int(s.get("count", 0)) for s in topic_searches(t)), topic=t)
               for t in topics]
    entries += [Entry(weight=count, query=query, count=count) for query, count in lone_searches(session, snapshot)[:limit]]
    order = sorted(range(len(entries)), key=lambda i: (-entries[i].weight, entries[i].topic is None, i))
    return [entries[i] for i in order]
