"""Articles rendered once, at save: sanitised HTML and plain text stored on the row.

A help center is read far more often than it is written, so the Markdown of an
article is converted and sanitised (:mod:`kb.services.helpcenter.markdown_render`) when the
article is saved, in the same transaction as its body: every worker and every
app server reads the new rendering with the new body, never an old one.

Each rendering carries its key, ``rendered_from``: the renderer's version
(:data:`~kb.services.helpcenter.markdown_render.RENDERER`) and a hash of the body it was made
from. A page serves the stored rendering only while the key matches the article's
body under the running renderer; otherwise (a new renderer not yet applied by
``neuvo init`` / ``neuvo reindex``, a body changed by a path that did not render)
it renders on the fly, exactly as before, so a stale text is never shown.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import Article
from kb.services.batches import batched
from kb.services.helpcenter.markdown_render import RENDERER, excerpt, html_text, render_markdown


def rendering_key(body: str) -> str:
    """What a rendering of ``body`` by the running renderer is stored under."""
    return f"{RENDERER}#{hashlib.sha256((body or '').encode('utf-8')).hexdigest()[:20]}"


def render_article(article: Article) -> None:
    """Render and sanitise the article's body into its stored HTML and text (call after setting the body).

    A body already rendered by this renderer is left as it is (a re-import of unchanged articles).
    """
    key = rendering_key(article.body or "")
    if article.rendered_from == key and article.body_html is not None and article.body_text is not None:
        return
    html = str(render_markdown(article.body or ""))
    article.body_html, article.body_text, article.rendered_from = html, html_text(html), key


def is_fresh(article: Article) -> bool:
    """True when the stored rendering was made from this body by the running renderer."""
    return article.rendered_from == rendering_key(article.body or "")


def article_html(article: Article) -> Markup:
    """The article's sanitised HTML: the stored rendering, or a fresh one when that is stale."""
    if is_fresh(article) and article.body_html is not None:
        return Markup(article.body_html)  # noqa: S704  # nosec B704 # sanitised by nh3 at save
    return render_markdown(article.body or "")


def article_text(article: Article) -> str:
    """The plain text a reader sees in the article (no Markdown, no markup, no script or comment)."""
    if is_fresh(article) and article.body_text is not None:
        return article.body_text
    return html_text(str(render_markdown(article.body or "")))


def article_excerpt(article: Article, limit: int) -> str:
    """The start of the article's text, cut at a word, ending in one "…"."""
    return excerpt(article_text(article), limit)


def refresh_renderings(session: Session, progress: Callable[[int], None] | None = None) -> int:
    """Render again every article whose stored rendering is missing or stale; returns how many.

    Run by ``neuvo init`` and ``neuvo reindex`` (the caller commits): after an upgrade
    of the renderer (a new :data:`RENDERER`) every article is rendered once more.
    """
    stale = [row.id for row in session.execute(select(Article.id, Article.body, Article.rendered_from))
             if row.rendered_from != rendering_key(row.body or "")]
    done = 0
    for chunk in batched(stale):
        for article in session.scalars(select(Article).where(Article.id.in_(chunk))):
            render_article(article)
            done += 1
            if progress is not None:
                progress(done)
        session.flush()
    return done
