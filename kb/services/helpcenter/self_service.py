"""Which help article belongs to which self-service page (settings, so each shop picks its own)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from kb.models import Article
from kb.services.helpcenter import articles as kb_articles
from kb.services.errors import NotFound
from kb.services.shop.channels import get_setting

PAGES = ("tracking", "changes", "returns", "invoices", "complaints")


def help_article(session: Session, page: str, language: str) -> Article | None:
    """The article configured for ``page`` (setting ``help_article_<page>``), in ``language`` if translated."""
    slug = get_setting(session, f"help_article_{page}")
    if not slug:
        return None
    try:
        article = kb_articles.published_article(session, slug)
    except NotFound:
        return None
    return kb_articles.translations_of(session, article).get(language, article)


def return_window_days(session: Session, default: int = 14) -> int:
    value = get_setting(session, "return_window_days")
    return int(value) if value.isdigit() else default
