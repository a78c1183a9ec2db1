"""Article health: how each article is used, and which articles need an editor's attention.

Figures per article for a period ``[now - days, now]``:

- ``views``: the article page's view counter (all time: page views are counted, not dated);
- ``helpful`` / ``unhelpful``: "was this helpful?" answers (all time: votes are few);
- ``suggested``: tickets of the period it was suggested on (attached at intake, or an
  ``ArticleEvent`` "suggested" shown to an agent), each ticket once;
- ``inserted``: tickets an agent linked it on (an ``ArticleEvent`` "inserted" or an agent's
  ``TicketArticleLink``); ``ignored`` = suggested tickets on which it was not inserted;
- ``opened``, ``deflected``, ``solved``: contact-form and auto-reply events;
- ``searches``: help-center searches whose visitor opened it from the results.

Translations are compared by *content* time: the last time title or body changed
(from the revisions; a change made outside the editor, such as an import, counts
at ``updated_at``), so publishing an original does not make its translations "behind".
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kb.models import (Article, ArticleEvent, ArticleEventKind, ArticleFeedback, ArticleRevision, ArticleStatus,
                       LinkSource, SearchLog, TicketArticleLink, TicketSuggestion)
from kb.services.helpcenter.articles import LANGUAGES

#: The tag that marks an article as archived (an archived article is a draft).
ARCHIVED_TAG = "archived"
STALE_DAYS = 365
LIST_LIMIT = 10


# ---------- translations

def content_times(session: Session, articles: list[Article]) -> dict[int, datetime]:
    """When each article's title or body last changed."""
    if not articles:
        return {}
    history: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    rows = session.execute(select(ArticleRevision.article_id, ArticleRevision.created_at, ArticleRevision.title,
                                  ArticleRevision.body)
                           .where(ArticleRevision.article_id.in_([a.id for a in articles]))
                           .order_by(ArticleRevision.created_at.desc(), ArticleRevision.id.desc()))
    for article_id, created_at, title, body in rows:
        history[article_id].append((created_at, title, body))
    times = {}
    for article in articles:
        revs = history.get(article.id, [])
        if not revs or revs[0][0] < article.updated_at:
            times[article.id] = article.updated_at
            continue
        since = revs[0][0]
        for created_at, title, body in revs:
            if (title, body) != (article.title, article.body):
                break
            since = created_at
        times[article.id] = since
    return times


@dataclass(frozen=True)
class TranslationVersion:
    """One language of an article group: state is original, current, behind or missing."""

    language: str
    state: str
    article: Article | None = None


@dataclass
class TranslationGroup:
    original: Article
    versions: list[TranslationVersion] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [v.language for v in self.versions if v.state == "missing"]

    @property
    def behind(self) -> list[TranslationVersion]:
        return [v for v in self.versions if v.state == "behind"]


def translation_table(session: Session, *, original_ids: list[int] | None = None) -> list[TranslationGroup]:
    """For each original (not archived): which of fi/sv/en exist, are missing, or are older than it."""
    query = select(Article).options(selectinload(Article.category)).order_by(Article.id)
    if original_ids is not None:
        query = query.where(Article.id.in_(original_ids) | Article.translation_of_id.in_(original_ids))
    rows = [a for a in session.scalars(query) if ARCHIVED_TAG not in (a.tags or ())]
    times = content_times(session, rows)
    members: dict[int, list[Article]] = defaultdict(list)
    for article in rows:
        if article.translation_of_id is not None:
            members[article.translation_of_id].append(article)
    groups = []
    for original in (a for a in rows if a.translation_of_id is None):
        group = TranslationGroup(original=original)
        by_language = {a.language: a for a in members.get(original.id, []) if a.language != original.language}
        for language in LANGUAGES:
            if language == original.language:
                group.versions.append(TranslationVersion(language, "original", original))
            elif language not in by_language:
                group.versions.append(TranslationVersion(language, "missing"))
            else:
                translation = by_language[language]
                state = "behind" if times[translation.id] < times[original.id] else "current"
                group.versions.append(TranslationVersion(language, state, translation))
        groups.append(group)
    return groups


def translations_for(session: Session, article: Article) -> TranslationGroup | None:
    groups = translation_table(session, original_ids=[article.group_id])
    return groups[0] if groups else None


# ---------- usage figures

@dataclass
class ArticleFigures:
    article: Article
    views: int = 0
    helpful: int = 0
    unhelpful: int = 0
    suggested: int = 0
    inserted: int = 0
    ignored: int = 0
    opened: int = 0
    deflected: int = 0
    solved: int = 0
    searches: int = 0

    @property
    def reads(self) -> int:
        """Dated evidence that someone read or used it in the period."""
        return self.searches + self.opened + self.deflected + self.solved + self.inserted

    @property
    def votes(self) -> int:
        return self.helpful + self.unhelpful


@dataclass
class HealthReport:
    start: datetime
    end: datetime
    figures: list[ArticleFigures]
    most_used: list[ArticleFigures]
    unread: list[ArticleFigures]
    unhelpful: list[ArticleFigures]
    never_inserted: list[ArticleFigures]
    stale: list[tuple[Article, datetime]]
    behind: list[tuple[TranslationGroup, TranslationVersion]]


def article_figures(session: Session, articles: list[Article], *, start: datetime, end: datetime
                    ) -> list[ArticleFigures]:
    """The figures above for ``articles`` in the period."""
    ids = [a.id for a in articles]
    figures = {a.id: ArticleFigures(article=a, views=a.view_count) for a in articles}
    if not ids:
        return []
    for article_id, helpful, count in session.execute(
            select(ArticleFeedback.article_id, ArticleFeedback.helpful, func.count())
            .where(ArticleFeedback.article_id.in_(ids))
            .group_by(ArticleFeedback.article_id, ArticleFeedback.helpful)):
        if helpful:
            figures[article_id].helpful = count
        else:
            figures[article_id].unhelpful = count
    suggested: dict[int, set[str]] = defaultdict(set)
    inserted: dict[int, set[str]] = defaultdict(set)
    for article_id, ticket_id in session.execute(
            select(TicketSuggestion.article_id, TicketSuggestion.ticket_id)
            .where(TicketSuggestion.article_id.in_(ids), TicketSuggestion.created_at.between(start, end))):
        suggested[article_id].add(f"t{ticket_id}")
    for article_id, ticket_id in session.execute(
            select(TicketArticleLink.article_id, TicketArticleLink.ticket_id)
            .where(TicketArticleLink.article_id.in_(ids), TicketArticleLink.source == LinkSource.AGENT,
                   TicketArticleLink.created_at.between(start, end))):
        inserted[article_id].add(f"t{ticket_id}")
    counters = {ArticleEventKind.OPENED: "opened", ArticleEventKind.DEFLECTED: "deflected",
                ArticleEventKind.SOLVED: "solved"}
    from kb.services.inquiries.intake import DEFLECTION_WINDOW

    for event_id, article_id, kind, ticket_id, created_at in session.execute(
            select(ArticleEvent.id, ArticleEvent.article_id, ArticleEvent.kind, ArticleEvent.ticket_id,
                   ArticleEvent.created_at)
            .where(ArticleEvent.article_id.in_(ids), ArticleEvent.created_at.between(start, end))):
        key = f"t{ticket_id}" if ticket_id is not None else f"e{event_id}"
        if kind is ArticleEventKind.OPENED and ticket_id is None and created_at + DEFLECTION_WINDOW <= end:
            figures[article_id].deflected += 1  # opened from the contact form, no inquiry followed (intake's rule)
        if kind is ArticleEventKind.SUGGESTED:
            suggested[article_id].add(key)
        elif kind is ArticleEventKind.INSERTED:
            inserted[article_id].add(key)
        elif kind in counters:
            row = figures[article_id]
            setattr(row, counters[kind], getattr(row, counters[kind]) + 1)
    for article_id, count in session.execute(
            select(SearchLog.clicked_article_id, func.count()).where(
                SearchLog.clicked_article_id.in_(ids), SearchLog.created_at.between(start, end))
            .group_by(SearchLog.clicked_article_id)):
        figures[article_id].searches = count
    for article_id, row in figures.items():
        row.suggested, row.inserted = len(suggested[article_id]), len(inserted[article_id])
        row.ignored = len(suggested[article_id] - inserted[article_id])
    return [figures[i] for i in ids]


def health_report(session: Session, *, now: datetime, days: int = 30) -> HealthReport:
    """Figures for every published article and the lists of articles to review."""
    start = now - timedelta(days=days)
    published = list(session.scalars(select(Article).where(Article.status == ArticleStatus.PUBLISHED)
                                     .options(selectinload(Article.category)).order_by(Article.id)))
    rows = article_figures(session, published, start=start, end=now)
    times = content_times(session, published)
    stale_before = now - timedelta(days=STALE_DAYS)
    behind = [(g, v) for g in translation_table(session) for v in g.behind]
    return HealthReport(
        start=start, end=now, figures=rows,
        most_used=sorted((r for r in rows if r.reads or r.views), key=lambda r: (-r.reads, -r.views, r.article.id)
                         )[:LIST_LIMIT],
        unread=[r for r in rows if r.reads == 0],
        unhelpful=sorted((r for r in rows if r.votes >= 3 and r.unhelpful > r.helpful),
                         key=lambda r: (r.helpful - r.unhelpful, r.article.id)),
        never_inserted=sorted((r for r in rows if r.suggested and not r.inserted),
                              key=lambda r: (-r.suggested, r.article.id)),
        stale=sorted(((a, times[a.id]) for a in published if times[a.id] < stale_before), key=lambda p: p[1]),
        behind=behind,
    )
