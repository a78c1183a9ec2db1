"""A suggested topic turned into a draft article: the topic's questions as its outline, in its main language."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Article, Category, GapDecisionKind
from kb.services.editorial import gap_review
from kb.services.editorial.authoring import ArticleForm, create_article, parse_tags
from kb.services.editorial.draft_outline import OUTLINE
from kb.services.errors import InvalidInput


def outline(topic: dict[str, Any], language: str) -> str:
    """A starting body: an answer section to write, and the customers' questions to replace."""
    answer, hint, questions, note = OUTLINE.get(language, OUTLINE["fi"])
    asked = [topic["title"], *topic.get("examples", [])]
    lines = [f"## {answer}", "", hint, "", f"## {questions}", "", note, ""]
    lines += [f"- {gap_review.flat_text(q)}" for q in asked if q.strip()]
    return "\n".join(lines) + "\n"


def search_tags(topic: dict[str, Any]) -> list[str]:
    """The words customers searched for this topic and found nothing, most searched first.

    As the new article's tags they are read by the help-center search and by the suggester, so once
    the article is published the same searches find it.
    """
    searches = sorted(topic.get("searches") or (), key=lambda s: -int(s.get("count", 0)))
    return parse_tags([gap_review.flat_text(str(s["query"])).replace(",", " ") for s in searches])


def create_draft_from_topic(session: Session, topic: dict[str, Any], *, by: int | None, now: datetime) -> Article:
    """A draft titled after the topic, in its main language and the nearest article's category."""
    languages = topic.get("languages") or {}
    language = max(sorted(languages), key=lambda k: languages[k]) if languages else "fi"
    language = language if language in OUTLINE else "fi"
    category_id = None
    if topic.get("nearest_article"):
        category_id = session.scalar(select(Article.category_id).where(Article.slug == topic["nearest_article"]))
    if category_id is None:
        category_id = session.scalar(select(Category.id).order_by(Category.position, Category.slug).limit(1))
    if category_id is None:
        raise InvalidInput("create a category first", field="category")
    title = gap_review.flat_text(topic["title"])[:300] or "?"
    article = create_article(session, ArticleForm(title=title, body=outline(topic, language), language=language,
                                                  category_id=category_id, tags=search_tags(topic)), by=by, now=now)
    gap_review.record_decision(session, GapDecisionKind.DRAFTED, topic, article_id=article.id, reason="", by=by, now=now)
    return article
