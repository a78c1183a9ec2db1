"""The editor workspace: articles, translations, revisions and the suggested missing articles."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from kb.web.security import id_arg
from kb.services.editorial.article_images import img_src_of
from kb.views.error_text import error_text
from kb.web.access import roles_required
from kb.db import commit, session, utcnow
from kb.models import Article, Role
from kb.services.editorial import article_health, authoring as editorial, gap_review, suggestion_runs, topic_drafts
from kb.services.errors import InvalidInput, NotFound
from kb.services.editorial.feedback_comments import missing_notes
from kb.services.helpcenter.markdown_render import render_markdown
from kb.services.helpcenter.search_index import drain_outbox, index
from kb.views.private import keep_private
from kb.services.editorial import gap_evidence
from kb.services.editorial.text_vectors import embed_articles, semantic_status

bp = keep_private(Blueprint("editor", __name__, url_prefix="/editor"))
editor_only = roles_required(Role.EDITOR)
HEALTH_PERIODS = (7, 30, 90, 365)


def _commit_and_index() -> None:
    """Commit the change, then apply it to the search index (the index never runs ahead) and embed it."""
    commit()
    drain_outbox(session(), index(), in_request=True)
    commit()
    embed_articles(session(), current_app.extensions["neuvo_matchers"].encoder())
    commit()


def _expected() -> datetime | None:
    """The article version the form was rendered from."""
    try:
        return datetime.fromisoformat(request.form.get("updated_at", ""))
    except ValueError:
        return None


def _errors(error: InvalidInput) -> dict[str, str]:
    return {error.field or "form": error_text(error)}


def _article(article_id: int) -> Article:
    try:
        return editorial.get_article(session(), article_id)
    except NotFound:
        abort(404)


def _form() -> editorial.ArticleForm:
    form = request.form
    return editorial.ArticleForm(
        title=form.get("title", ""), body=form.get("body", "").replace("\r\n", "\n"),
        language=form.get("language", ""), category_id=form.get("category_id", type=id_arg),
        slug=form.get("slug", ""), tags=form.get("tags", ""),
        translation_of_id=form.get("translation_of_id", type=id_arg),
        img_src=img_src_of(current_app.config["CONTENT_SECURITY_POLICY"]))


def _edit_page(article: Article | None, form: editorial.ArticleForm, *, errors: dict | None = None,
               conflict: Article | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    db = session()
    group = article_health.translations_for(db, article) if article is not None else None
    originals = editorial.originals(db, other_than=article.id if article is not None else None)
    diff = editorial.diff_lines(conflict.title, conflict.body, form.title, form.body) if conflict else None
    return render_template("editor/edit.html", article=article, form=form, errors=errors or {},
                           categories=editorial.categories(db), originals=originals, group=group,
                           conflict=conflict, diff=diff, archived=article is not None and editorial.is_archived(article),
                           tags=", ".join(form.tags) if isinstance(form.tags, list) else form.tags), status


@bp.route("/")
@editor_only
def home():  # type: ignore[no-untyped-def]
    """The workspace starts at the article list."""
    return redirect(url_for("editor.articles"))


@bp.route("/articles")
@editor_only
def articles():  # type: ignore[no-untyped-def]
    """Articles with filters: language, category, status, translation missing or behind."""
    db = session()
    args = request.args
    filters = editorial.ArticleFilters(language=args.get("language", ""), category_id=args.get("category", type=id_arg),
                                       status=args.get("status", ""), translation=args.get("translation", ""),
                                       query=args.get("q", ""))
    rows = editorial.list_articles(db, filters)
    groups = {g.original.id: g for g in article_health.translation_table(db)}
    return render_template("editor/articles.html", rows=rows, filters=filters, groups=groups,
                           categories=editorial.categories(db))


@bp.route("/articles/new", methods=["GET", "POST"])
@editor_only
def new_article():  # type: ignore[no-untyped-def]
    """Write a new draft, or a translation of an original (``?translation_of=ID&language=sv``)."""
    db = session()
    if request.method == "POST":
        form = _form()
        try:
            article = editorial.create_article(db, form, by=current_user.id, now=utcnow())
        except InvalidInput as error:
            return _edit_page(None, form, errors=_errors(error), status=422)
        _commit_and_index()
        flash(_("Draft saved."), "success")
        return redirect(url_for("editor.edit_article", article_id=article.id))
    form = editorial.ArticleForm(title="", body="", language=request.args.get("language", "fi"), category_id=None)
    original_id = request.args.get("translation_of", type=id_arg)
    original = db.get(Article, original_id) if original_id else None
    if original is not None:
        form = editorial.ArticleForm(title=original.title, body=original.body, language=form.language,
                                     category_id=original.category_id, tags=list(original.tags or ()),
                                     translation_of_id=original.group_id)
    return _edit_page(None, form)


@bp.route("/articles/<int:article_id>", methods=["GET", "POST"])
@editor_only
def edit_article(article_id: int):  # type: ignore[no-untyped-def]
    """Edit an article; saving over a newer version shows the conflict instead of overwriting."""
    db = session()
    article = _article(article_id)
    if request.method == "POST":
        form = _form()
        try:
            editorial.update_article(db, article, form, expected=_expected(), by=current_user.id, now=utcnow())
        except InvalidInput as error:
            db.rollback()
            return _edit_page(_article(article_id), form, errors=_errors(error), status=422)
        except editorial.EditConflict as conflict:
            db.rollback()
            current = _article(article_id)
            return _edit_page(current, form, conflict=conflict.article, status=409)
        _commit_and_index()
        flash(_("Saved."), "success")
        return redirect(url_for("editor.edit_article", article_id=article.id))
    form = editorial.ArticleForm(title=article.title, body=article.body, language=article.language,
                                 category_id=article.category_id, slug=article.slug, tags=list(article.tags or ()),
                                 translation_of_id=article.translation_of_id)
    return _edit_page(article, form)


STATUS_MESSAGES = {"publish": _l("Published."), "unpublish": _l("Unpublished: the article is a draft again."),
                   "archive": _l("Archived."), "unarchive": _l("Taken out of the archive as a draft.")}


@bp.post("/articles/<int:article_id>/status")
@editor_only
def change_status(article_id: int):  # type: ignore[no-untyped-def]
    """Publish, unpublish, archive or unarchive."""
    article = _article(article_id)
    action = request.form.get("action", "")
    try:
        editorial.change_status(session(), article, action, expected=_expected(), by=current_user.id, now=utcnow())
    except InvalidInput:
        abort(400)
    except editorial.UnfinishedDraft:
        session().rollback()
        flash(_("Not published: the text still has the outline's placeholder lines. Write the answer and "
                "replace the customers' questions with it, then publish."), "error")
        return redirect(url_for("editor.edit_article", article_id=article_id))
    except editorial.EditConflict:
        session().rollback()
        flash(_("Someone saved this article after you opened it. Nothing was changed; check the newest "
                "version and try again."), "error")
        return redirect(url_for("editor.edit_article", article_id=article_id))
    _commit_and_index()
    flash(str(STATUS_MESSAGES[action]), "success")
    return redirect(url_for("editor.edit_article", article_id=article_id))


@bp.route("/articles/<int:article_id>/revisions")
@editor_only
def revisions(article_id: int):  # type: ignore[no-untyped-def]
    """Every saved version of the article."""
    article = _article(article_id)
    return render_template("editor/revisions.html", article=article,
                           revisions=editorial.revisions(session(), article))


@bp.route("/articles/<int:article_id>/revisions/<int:revision_id>")
@editor_only
def revision(article_id: int, revision_id: int):  # type: ignore[no-untyped-def]
    """What one revision changed compared with the one before it."""
    db = session()
    article = _article(article_id)
    try:
        rev = editorial.get_revision(db, article, revision_id)
    except NotFound:
        abort(404)
    before = editorial.previous_revision(db, rev)
    diff = editorial.diff_lines(before.title if before else "", before.body if before else "", rev.title, rev.body)
    return render_template("editor/revision.html", article=article, revision=rev, before=before, diff=diff)


@bp.post("/articles/<int:article_id>/revisions/<int:revision_id>/restore")
@editor_only
def restore(article_id: int, revision_id: int):  # type: ignore[no-untyped-def]
    """Bring back an earlier version as a new revision."""
    db = session()
    article = _article(article_id)
    try:
        rev = editorial.get_revision(db, article, revision_id)
        editorial.restore_revision(db, article, rev, expected=_expected(), by=current_user.id, now=utcnow())
    except NotFound:
        abort(404)
    except editorial.EditConflict:
        db.rollback()
        flash(_("Someone saved this article after you opened it. Nothing was changed."), "error")
        return redirect(url_for("editor.revisions", article_id=article_id))
    _commit_and_index()
    flash(_("The earlier version was restored as a new revision."), "success")
    return redirect(url_for("editor.edit_article", article_id=article_id))


@bp.post("/preview")
@editor_only
def preview():  # type: ignore[no-untyped-def]
    """The Markdown rendered and sanitised exactly as readers will see it."""
    body = request.form.get("body", "")
    if len(body) > editorial.MAX_BODY:
        abort(413)
    return jsonify(html=str(render_markdown(body)))


@bp.route("/categories", methods=["GET", "POST"])
@editor_only
def categories():  # type: ignore[no-untyped-def]
    """Categories in display order; add one or change names and positions."""
    db = session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            editorial.save_category(db, category_id=form.get("category_id", type=id_arg),
                                    names={lang: form.get(f"name_{lang}", "") for lang in ("fi", "sv", "en")},
                                    position=form.get("position", 100, type=id_arg), slug=form.get("slug", ""))
        except NotFound:
            abort(404)
        except InvalidInput as error:
            db.rollback()
            errors = _errors(error)
        else:
            commit()
            flash(_("Category saved."), "success")
            return redirect(url_for("editor.categories"))
    return render_template("editor/categories.html", categories=editorial.categories(db), errors=errors), \
        (422 if errors else 200)


# ---------- suggested articles

@bp.route("/suggestions")
@editor_only
def suggestions():  # type: ignore[no-untyped-def]
    """The latest suggested missing articles and zero-result searches, in one list ranked by evidence."""
    db = session()
    snapshot = gap_review.latest_snapshot(db)
    topics = gap_review.visible_topics(db, snapshot)
    entries = gap_evidence.ranked_entries(db, snapshot, topics)
    slugs = {t["nearest_article"] for t in topics if t.get("nearest_article")}
    nearest = editorial.articles_by_slug(db, slugs)
    published = editorial.published_articles(db)
    return render_template("editor/suggestions.html", snapshot=snapshot, entries=entries,
                           topic_searches=gap_evidence.topic_searches, nearest=nearest, published=published,
                           decisions=gap_review.recent_decisions(db), runs=suggestion_runs.refresh_state(db),
                           semantic=semantic_status(current_app.extensions["neuvo_matchers"]),
                           can_open_tickets=current_user.has_role(Role.AGENT))


@bp.post("/suggestions/refresh")
@editor_only
def refresh_suggestions():  # type: ignore[no-untyped-def]
    """Ask the background worker to run the gap miner (it takes too long for a request)."""
    suggestion_runs.request_refresh(session(), now=utcnow())
    commit()
    flash(_("Refresh requested. The background worker updates the suggestions within about a minute; "
            "reload this page then."), "success")
    return redirect(url_for("editor.suggestions"))


def _topic(snapshot_id: int, rank: int) -> dict:
    try:
        return gap_review.topic_of(session(), snapshot_id, rank)
    except NotFound:
        abort(404)


@bp.post("/suggestions/<int:snapshot_id>/<int:rank>/draft")
@editor_only
def draft_from_topic(snapshot_id: int, rank: int):  # type: ignore[no-untyped-def]
    """Create a draft from a suggested topic and open it."""
    topic = _topic(snapshot_id, rank)
    try:
        article = topic_drafts.create_draft_from_topic(session(), topic, by=current_user.id, now=utcnow())
    except InvalidInput as error:
        session().rollback()
        flash(next(iter(_errors(error).values())), "error")
        return redirect(url_for("editor.suggestions"))
    _commit_and_index()
    flash(_("Draft created. Replace the customers' questions with the answer, then publish."), "success")
    return redirect(url_for("editor.edit_article", article_id=article.id))


@bp.post("/suggestions/<int:snapshot_id>/<int:rank>/cover")
@editor_only
def cover_topic(snapshot_id: int, rank: int):  # type: ignore[no-untyped-def]
    """Record that an existing article answers the topic, and teach the suggester so."""
    topic = _topic(snapshot_id, rank)
    try:
        gap_review.cover_topic(session(), topic, request.form.get("article_id", type=id_arg), by=current_user.id,
                               now=utcnow())
    except InvalidInput:
        session().rollback()
        flash(_("Choose a published article that answers the question."), "error")
        return redirect(url_for("editor.suggestions"))
    commit()
    flash(_("Marked as covered; its inquiries are now linked to the article."), "success")
    return redirect(url_for("editor.suggestions"))


@bp.post("/suggestions/<int:snapshot_id>/<int:rank>/dismiss")
@editor_only
def dismiss_topic(snapshot_id: int, rank: int):  # type: ignore[no-untyped-def]
    """Hide the topic, with a reason, so it does not come back."""
    topic = _topic(snapshot_id, rank)
    try:
        gap_review.dismiss_topic(session(), topic, request.form.get("reason", ""), by=current_user.id, now=utcnow())
    except InvalidInput:
        session().rollback()
        flash(_("Give a reason for dismissing the topic."), "error")
        return redirect(url_for("editor.suggestions"))
    commit()
    flash(_("Dismissed."), "success")
    return redirect(url_for("editor.suggestions"))


# ---------- article health

def _period() -> int:
    days = request.args.get("days", 30, type=id_arg)
    return days if days in HEALTH_PERIODS else 30


@bp.route("/health")
@editor_only
def health():  # type: ignore[no-untyped-def]
    """Which articles help, and which need an editor's attention."""
    days = _period()
    report = article_health.health_report(session(), now=utcnow(), days=days)
    return render_template("editor/health.html", report=report, days=days, periods=HEALTH_PERIODS)


@bp.route("/health/<int:article_id>")
@editor_only
def article_health_page(article_id: int):  # type: ignore[no-untyped-def]
    """One article's figures for the period."""
    days = _period()
    article = _article(article_id)
    now = utcnow()
    figures = article_health.article_figures(session(), [article], start=now - timedelta(days=days), end=now)[0]
    return render_template("editor/article_health.html", article=article, figures=figures, days=days,
                           periods=HEALTH_PERIODS, missing=missing_notes(session(), article))
