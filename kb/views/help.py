"""The public help center: home, categories, articles and search."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, g, redirect, render_template, request,
                   session as flask_session, url_for)

from kb.db import commit, session, utcnow
from kb.web.extensions import remembered_locale, select_locale
from kb.web.security import id_arg, visitor_id
from kb.services.helpcenter import articles as kb_articles, kb_catalogue
from kb.services.errors import InvalidInput, NotFound
from kb.services.editorial.feedback_comments import add_missing_note
from kb.services.helpcenter.search_log import log_search, record_click
from kb.services.helpcenter.search_correction import search_or_correct
from kb.services.shop.channels import contact_channels
from kb.web.fragments import FragmentCache
from kb.web.templating import shop_name
from kb.views.error_text import error_text
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
    channels = contact_channels(db, now=utcnow(), timezone=current_app.config["TIMEZONE"], language=g.lang)
    fragments: FragmentCache = current_app.extensions["neuvo_fragments"]
    return _render(
        "help/home.html",
        categories=kb_articles.categories_with_counts(db, g.lang),
        popular=kb_catalogue.most_viewed(_catalogue(), db, g.lang),
        channels_html=fragments.render("help/_channels.html", (g.lang, tuple(c.shown(g.lang) for c in channels)),
                                       channels=channels),
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
        from kb.services.editorial.authoring import follow_redirect

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
    return _render(
        "help/article.html", article=art,
        translations=kb_articles.translations_of(db, art),
        related=kb_catalogue.related(_catalogue(), db, art),
        feedback_state=_feedback_state(art.id),
    )


ASK_MISSING = "feedback_ask"


def _feedback_state(article_id: int) -> str:
    """"question", "missing" (a "no" waiting for what was missing) or "thanks"."""
    if flask_session.get(ASK_MISSING) == article_id:
        return "missing"
    return "thanks" if article_id in flask_session.get("feedback", []) else "question"


def _feedback_answer(art, errors: dict[str, str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    """The feedback section alone for the page's script (no reload, no jump), else back to it."""
    if request.headers.get("X-Requested-With") == "fetch" or errors:
        return render_template("help/_feedback.html", article=art, feedback_state=_feedback_state(art.id),
                               errors=errors or {}, typed=request.form.get("comment", "")), status
    return redirect(url_for("help.article", slug=art.slug) + "#feedback")


def _published(slug: str):  # type: ignore[no-untyped-def]
    try:
        return kb_articles.published_article(session(), slug)
    except NotFound:
        abort(404)


@bp.post("/a/<slug>/feedback")
def feedback(slug: str):  # type: ignore[no-untyped-def]
    """Record "was this helpful?" once per visitor session; a "no" asks what was missing."""
    db = session()
    art = _published(slug)
    helpful = request.form.get("helpful")
    if helpful not in ("yes", "no"):
        abort(400)
    new = kb_articles.record_feedback(db, art, visitor=visitor_id(), helpful=helpful == "yes", now=utcnow())
    commit()
    flask_session["feedback"] = [*flask_session.get("feedback", [])[-199:], art.id]
    if new and helpful == "no":
        flask_session[ASK_MISSING] = art.id
    return _feedback_answer(art)


@bp.post("/a/<slug>/feedback/missing")
def feedback_missing(slug: str):  # type: ignore[no-untyped-def]
    """What was missing from the article, added to the visitor's "no"; empty: skipped."""
    db = session()
    art = _published(slug)
    if request.form.get("skip") != "1" and flask_session.get(ASK_MISSING) == art.id:
        try:
            add_missing_note(db, art, visitor=visitor_id(), comment=request.form.get("comment", "")[:5000])
        except InvalidInput as error:
            db.rollback()
            return _feedback_answer(art, {"comment": error_text(error)}, 400)
        commit()
    if flask_session.get(ASK_MISSING) == art.id:
        flask_session.pop(ASK_MISSING)
    return _feedback_answer(art)


@bp.route("/search")
def search():  # type: ignore[no-untyped-def]
    """Full-text search with filters, pagination and "did you mean"."""
    db = session()
    query = request.args.get("q", "")
    category_slug = (request.args.get("category") or "")[:80] or None
    page = max(1, min(request.args.get("page", 1, type=id_arg), 1000))
    per_page = current_app.config["SEARCH_PER_PAGE"]
    results, log_id, unavailable, typed = None, None, False, None
    if query.strip():
        try:
            found = search_or_correct(db, query, language=g.lang, category=category_slug, page=page,
                                      per_page=per_page, as_typed=request.args.get("as_typed") == "1")
        except IndexUnavailable:
            unavailable = True
        else:
            results, typed = found.results, found.typed
            if typed is not None:
                query = results.query  # the box, the filters and the pages continue with the correction
            last = max(1, -(-results.total // per_page))
            if page > last and results.total:  # an old link or a typed number past the end: the last page
                args = {**{k: v for k, v in request.args.to_dict().items() if k != "lang"}, "page": last}
                return redirect(url_for("help.search", lang=g.lang, **args))
        if results is not None and page == 1:
            log_id = log_search(db, results.query, language=g.lang, category=category_slug,
                                result_count=results.total, visitor=visitor_id(), now=utcnow())
            commit()
    categories = kb_articles.categories_with_counts(db, g.lang)
    status = 503 if unavailable else 200
    return _render("help/search.html", query=query, results=results, log_id=log_id, typed=typed,
                           category=category_slug, categories=categories, page=page,
                           per_page=per_page, unavailable=unavailable), status
