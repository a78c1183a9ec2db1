"""The public help center: home, categories, articles and search."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   session as flask_session, url_for)
from flask_babel import gettext as _

from kb.db import commit, session, utcnow
from kb.extensions import remembered_locale, select_locale
from kb.security import id_arg, visitor_id
from kb.services import articles as kb_articles, kb_catalogue
from kb.services.errors import NotFound
from kb.services.search_log import log_search, record_click
from kb.services.search_index import search_articles
from kb.services.shop import contact_channels
from kb.templating import shop_name
from search import IndexUnavailable

bp = Blueprint("help", __name__, url_prefix="/<lang>")


@bp.url_value_preprocessor
def _pull_lang(endpoint: str | None, values: dict | None) -> None:
    lang = (values or {}).pop("lang", None)
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    g.lang = lang
    if lang != remembered_locale():  # unchanged: no cookie is set, so the page stays cacheable
        flask_session["lang"] = lang


def _catalogue() -> kb_catalogue.Catalogue:
    return current_app.extensions["neuvo_catalogue"]


def _render(template: str, **context: object) -> str:
    """Render once the page's data is read and its transaction ended.

    On SQLite every transaction holds the database's write lock (BEGIN IMMEDIATE):
    ending it before the template runs lets the other workers' requests proceed.
    """
    shop_name()  # the one value the page layout reads from the database
    commit()
    return render_template(template, **context)


@bp.url_defaults
def _add_lang(endpoint: str, values: dict) -> None:
    values.setdefault("lang", getattr(g, "lang", None) or select_locale())


def root():  # type: ignore[no-untyped-def]
    """Send visitors to the help center in their language."""
    return redirect(url_for("help.home", lang=select_locale()))


def favicon():  # type: ignore[no-untyped-def]
    """Browsers ask for /favicon.ico on pages without an icon link (printable pages)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.route("/")
def home():  # type: ignore[no-untyped-def]
    """Search box, categories, most-read articles and contact channels."""
    db = session()
    return _render(
        "help/home.html",
        categories=kb_articles.categories_with_counts(db, g.lang),
        popular=kb_catalogue.most_viewed(_catalogue(), db, g.lang),
        channels=contact_channels(db, now=utcnow(), timezone=current_app.config["TIMEZONE"], language=g.lang),
    )


@bp.route("/c/<slug>")
def category(slug: str):  # type: ignore[no-untyped-def]
    """All published articles of one category in the current language."""
    db = session()
    try:
        cat = kb_articles.get_category(db, slug)
    except NotFound:
        abort(404)
    kb_catalogue.log_state(db)  # read in this transaction: the page's Last-Modified
    return _render("help/category.html", category=cat,
                           articles=kb_articles.articles_in_category(db, cat, g.lang))


@bp.route("/a/<slug>")
def article(slug: str):  # type: ignore[no-untyped-def]
    """One article, rendered and sanitised, with translations and related articles."""
    db = session()
    try:
        art = kb_articles.published_article(db, slug)
    except NotFound:
        from kb.services.editorial import follow_redirect

        moved = follow_redirect(db, slug)
        if moved is None:
            abort(404)
        return redirect(url_for("help.article", lang=moved.language, slug=moved.slug), 301)
    if art.language != g.lang:
        return redirect(url_for("help.article", lang=art.language, slug=slug), 301)
    kb_articles.count_view(db, art)
    from_search = request.args.get("s", type=id_arg)
    if from_search:
        record_click(db, from_search, art, visitor=visitor_id())
    commit()
    answered = flask_session.get("feedback", [])
    return _render(
        "help/article.html", article=art,
        translations=kb_articles.translations_of(db, art),
        related=kb_catalogue.related(_catalogue(), db, art),
        feedback_given=art.id in answered,
    )


@bp.post("/a/<slug>/feedback")
def feedback(slug: str):  # type: ignore[no-untyped-def]
    """Record "was this helpful?" once per visitor session."""
    db = session()
    try:
        art = kb_articles.published_article(db, slug)
    except NotFound:
        abort(404)
    helpful = request.form.get("helpful")
    if helpful not in ("yes", "no"):
        abort(400)
    kb_articles.record_feedback(db, art, visitor=visitor_id(), helpful=helpful == "yes", now=utcnow())
    commit()
    flask_session["feedback"] = [*flask_session.get("feedback", [])[-199:], art.id]
    flash(_("Thank you for your feedback!"), "success")
    return redirect(url_for("help.article", slug=art.slug) + "#feedback")


@bp.route("/search")
def search():  # type: ignore[no-untyped-def]
    """Full-text search with filters, pagination and "did you mean"."""
    db = session()
    query = request.args.get("q", "")
    category_slug = (request.args.get("category") or "")[:80] or None
    page = max(1, min(request.args.get("page", 1, type=id_arg), 1000))
    per_page = current_app.config["SEARCH_PER_PAGE"]
    results, log_id, unavailable = None, None, False
    if query.strip():
        try:
            results = search_articles(db, query, language=g.lang, category=category_slug,
                                      page=page, per_page=per_page)
        except IndexUnavailable:
            unavailable = True
        if results is not None and page == 1:
            log_id = log_search(db, results.query, language=g.lang, category=category_slug,
                                result_count=results.total, visitor=visitor_id(), now=utcnow())
            commit()
    categories = kb_articles.categories_with_counts(db, g.lang)
    status = 503 if unavailable else 200
    return _render("help/search.html", query=query, results=results, log_id=log_id,
                           category=category_slug, categories=categories, page=page,
                           per_page=per_page, unavailable=unavailable), status
