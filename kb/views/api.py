"""JSON API under /api/v1 (a stable interface, described by openapi.json)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, HTTPException

from kb.db import commit, session, utcnow
from kb.web.extensions import csrf, limiter
from kb.web.json_limits import MAX_DEPTH, JSONTooDeep
from kb.web.security import small_int, visitor_id
from kb.services.helpcenter import articles as kb_articles
from kb.services.errors import NotFound
from kb.services.helpcenter.article_render import article_html, article_text
from kb.services.helpcenter.search_index import search_articles
from kb.services.helpcenter.search_log import log_search
from kb.services.editorial.suggestions import rank_texts
from kb.services.editorial.suggestion_json import ranking_json
from search import IndexUnavailable

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
OPENAPI = Path(__file__).resolve().parent.parent / "openapi.json"


class ApiError(HTTPException):
    """A 4xx answer with a message and the offending field, rendered as JSON."""

    def __init__(self, code: int, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.json_message, self.field = code, message, field


def _search_limit() -> str:
    return current_app.config["SEARCH_RATE_LIMIT"]


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    """The OpenAPI description of this API."""
    return current_app.response_class(OPENAPI.read_text(encoding="utf-8"), mimetype="application/json")


@bp.get("/search")
@limiter.limit(_search_limit)
def search():  # type: ignore[no-untyped-def]
    """Search published articles; `as_you_type=1` skips the search log."""
    query = request.args.get("q", "")
    lang = request.args.get("lang") or None
    if lang is not None and lang not in current_app.config["LANGUAGES"]:
        raise ApiError(400, "unknown language", "lang")
    page = str(small_int(request.args.get("page", "1"), default=0, maximum=1000))
    if page == "0":
        raise ApiError(400, "page must be a number from 1 to 1000", "page")
    db = session()
    category = (request.args.get("category") or "")[:80] or None
    try:
        results = search_articles(db, query, language=lang, category=category,
                                  page=int(page), per_page=current_app.config["SEARCH_PER_PAGE"])
    except IndexUnavailable:
        raise ApiError(503, "search is temporarily unavailable") from None
    if results.query and request.args.get("as_you_type") != "1" and int(page) == 1:
        log_search(db, results.query, language=lang or "", category=category,
                   result_count=results.total, visitor=visitor_id(), now=utcnow())
        commit()
    return jsonify(
        query=results.query, total=results.total, page=results.page, suggestion=results.suggestion,
        results=[{
            "slug": hit.slug, "title": hit.title, "snippet": hit.snippet_html, "language": hit.language,
            "category": hit.category, "score": round(hit.score, 4),
            "url": url_for("help.article", lang=hit.language, slug=hit.slug),
        } for hit in results.results],
    )


@bp.get("/articles/<slug>")
def article(slug: str):  # type: ignore[no-untyped-def]
    """One published article as readers see it: sanitised HTML and plain text, never the Markdown source."""
    db = session()
    try:
        art = kb_articles.published_article(db, slug)
    except NotFound:
        raise ApiError(404, "no published article with this slug", "slug") from None
    translations = kb_articles.translations_of(db, art)
    text = article_text(art)
    return jsonify(
        slug=art.slug, title=art.title, language=art.language, category=art.category.slug,
        tags=art.tags, body=text, text=text, html=str(article_html(art)),
        updated_at=art.updated_at.isoformat(),
        url=url_for("help.article", lang=art.language, slug=art.slug, _external=True),
        translations={lang: a.slug for lang, a in translations.items() if a.id != art.id},
    )


@bp.post("/suggest")
@limiter.limit(lambda: current_app.config["SUGGEST_RATE_LIMIT"])
def suggest():  # type: ignore[no-untyped-def]
    """Articles that may answer a question being typed (same shape as `neuvo suggest attach`)."""
    data = json_body()
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "text is required", "text")
    if len(text) > 5000:
        raise ApiError(400, "text is longer than 5000 characters", "text")
    language = data.get("language")
    if language is not None and language not in current_app.config["LANGUAGES"]:
        raise ApiError(400, "unknown language", "language")
    k = data.get("k", 3)
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 10:
        raise ApiError(400, "k must be a number from 1 to 10", "k")
    db = session()
    matcher = current_app.extensions["neuvo_matchers"].current(db)
    ranking = rank_texts(matcher, [text], [language], k=k)[0]
    titles = kb_articles.titles_by_slug(db, [s.slug for s in ranking.suggestions])
    payload = ranking_json(None, ranking)
    for item in payload["suggestions"]:
        language_of, title = titles.get(item["slug"], (None, item["slug"]))
        item["title"] = title
        item["url"] = url_for("help.article", lang=language_of or "fi", slug=item["slug"])
    return jsonify(payload)


def _too_deep(error: BaseException | None) -> bool:
    """Whether the parse failed on nesting (the provider's error sits in the BadRequest's causes)."""
    while error is not None:
        if isinstance(error, JSONTooDeep):
            return True
        error = error.__cause__ or error.__context__
    return False


def json_body() -> dict:
    """The request's JSON object, or a 400 naming the problem."""
    try:
        data = request.get_json(force=False, silent=False)
    except BadRequest as error:
        if _too_deep(error):
            raise ApiError(400, f"body is nested deeper than {MAX_DEPTH} levels") from None
        raise ApiError(400, "body must be valid JSON with Content-Type: application/json") from None
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object")
    return data

