"""JSON shapes shared by the API and the CLI (the contract in DESIGN.md)."""
from __future__ import annotations

from typing import Any

from suggest import GapReport, Ranking


def ranking_json(item_id: str | None, ranking: Ranking) -> dict[str, Any]:
    return {"id": item_id, "confident": ranking.confident,
            "suggestions": [{"slug": s.slug, "score": round(s.score, 4)} for s in ranking.suggestions]}


def gap_report_json(report: GapReport) -> dict[str, Any]:
    return {
        "window": {"start": report.window_start.isoformat(), "end": report.window_end.isoformat()},
        "inquiries": report.inquiries,
        "topics": [{
            "rank": t.rank, "title": t.title, "size": t.size, "inquiry_ids": list(t.inquiry_ids),
            "examples": list(t.examples), "terms": list(t.terms), "languages": dict(t.languages),
            "channels": dict(t.channels), "searches": [{"query": q, "count": n} for q, n in t.searches],
            "nearest_article": t.nearest_article, "nearest_similarity": round(t.nearest_similarity, 4),
        } for t in report.topics],
    }
