"""``neuvo init``, ``demo``, ``run`` and ``reindex``: the database, the demo shop, the development server
and the search index."""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from kb.cli.common import domain_errors, prepare_vectors, progress
from kb.db import commit, database, session, utcnow
from kb.services.editorial.suggestions import matchers


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database to the newest schema, and create the search index."""
    from kb.migrate import upgrade
    from kb.services.helpcenter.search_index import ensure_index, index

    before, after = upgrade(database().engine)
    click.echo(f"Database at revision {after}" + (" (unchanged)" if before == after else f" (was {before})"))
    _refresh_renderings()
    if ensure_index(session(), index()):
        click.echo(f"Search index created at {current_app.config['INDEX_PATH']}")
    commit()


@click.command("demo")
@click.option("--reset", is_flag=True, help="Delete all data first and load the demo afresh.")
@with_appcontext
@domain_errors
def demo_command(reset: bool) -> None:
    """Load the built-in demo shop (articles in fi/sv/en, channels, opening hours)."""
    from kb.migrate import upgrade
    from kb.services.shop.demo import load_demo
    from kb.services.shop.demo_history import search_history
    from kb.services.helpcenter.search_index import index
    from kb.services.editorial.suggestions import refresh_derived

    upgrade(database().engine)
    counts = load_demo(session(), now=utcnow(), reset=reset)
    if counts is None:
        click.echo("The demo shop is already loaded (use --reset to load it afresh)")
        return
    session().flush()
    prepare_vectors()
    refresh_derived(session(), index(), matchers(), now=utcnow(), progress=progress)
    search_history(session(), index(), now=utcnow())
    commit()
    click.echo("Demo shop loaded: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    from kb.jobs import run_gap_refresh

    snapshot = run_gap_refresh(progress=progress)  # the editors' suggested articles, filled from the start
    click.echo(f"Suggested articles: {len(snapshot.report['topics'])} topics")
    from kb.services.shop.demo import DEMO_ACCOUNTS, demo_password

    click.echo("Demo accounts (e-mail, role, password):")
    for email, role, _, _ in DEMO_ACCOUNTS:
        click.echo(f"  {email:<32} {role.value:<9} {demo_password(role)}")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--jobs/--no-jobs", default=True, show_default=True,
              help="Run the background jobs of `neuvo worker` (mail to instance/outbox, suggested articles, "
                   "search index) in the server process.")
@click.option("--jobs-interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 86_400),
              help="Seconds between rounds of the background jobs.")
@click.option("--reload", "use_reloader", is_flag=True, help="Restart the server when a source file changes.")
@with_appcontext
def run_command(host: str, port: int, jobs: bool, jobs_interval: float, use_reloader: bool) -> None:
    """Development server with the background jobs; production: gunicorn "kb:create_app()" and `neuvo worker`."""
    from kb.cli.dev_server import BackgroundJobs, install_sigterm_handler, persistent_secret_key, serving_process
    from kb.worker import JobOutcome

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "NEUVO_ENV" not in os.environ:
        # plain HTTP: browsers refuse Secure and __Host- cookies there
        app.config.update(ENV="development", SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False,
                          SESSION_COOKIE_NAME="session", REMEMBER_COOKIE_NAME="remember_token")
    if app.config.get("SECRET_KEY_GENERATED"):
        app.config["SECRET_KEY"] = persistent_secret_key(app.instance_path)
    background = None
    if jobs and serving_process(use_reloader) and not _database_ready():
        click.echo("Background jobs not started: the database is not at the newest schema; run `neuvo init` "
                   "(and `neuvo demo` for the demo shop), then start the server again", err=True)
        jobs = False
    if jobs and serving_process(use_reloader):
        def report(outcome: JobOutcome) -> None:
            if outcome.summary is not None:
                click.echo(f"[{outcome.job}] {outcome.summary}", err=True)

        background = BackgroundJobs(app, interval=jobs_interval, report=report)
        background.start()
        click.echo(f"Background jobs (mail, search index, suggested articles): a round every {jobs_interval:g} s")
    if serving_process(use_reloader):
        click.echo(f"Neuvo development server on http://{host}:{port}/ (Ctrl+C stops)")
    install_sigterm_handler()
    try:
        run_simple(host, port, app, use_reloader=use_reloader, use_debugger=False, threaded=True)
    finally:
        if background is not None:
            stopped = background.stop()
            click.echo("Background jobs stopped" if stopped else "Background jobs still busy: ending them")


def _database_ready() -> bool:
    """Whether the database is migrated to the newest schema (the jobs would fail every round otherwise)."""
    from kb.migrate import current_revision, head_revision

    engine = database().engine
    try:
        return current_revision(engine) == head_revision(engine)
    except Exception:  # unreachable database: the pages will say so; the jobs must not flood the log
        return False


@click.command("reindex")
@click.option("--check", is_flag=True,
              help="Only compare the index with the database and list the differences; exit 1 if any.")
@with_appcontext
def reindex_command(check: bool) -> None:
    """Rebuild this server's search index from the database and refit the suggester."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from kb.models import Article, ArticleStatus
    from kb.services.helpcenter.search_index import index, prune_index_changes, rebuild
    from search import IndexBusy

    if check:
        _check_index()
        return
    _refresh_renderings()
    total = session().scalar(select(func.count(Article.id)).where(Article.status == ArticleStatus.PUBLISHED)) or 0
    try:
        with click.progressbar(length=total, label="Indexing articles", file=sys.stderr) as bar:
            count = rebuild(session(), index(), progress=lambda done: bar.update(done - bar.pos),
                            commit_before_build=True)
    except IndexBusy as error:
        session().rollback()
        click.echo(f"Error: {error}; try again later", err=True)
        sys.exit(1)
    except OSError as error:
        from kb.web.errors import is_temporary

        if not is_temporary(error):
            raise
        session().rollback()
        click.echo(f"Error: the disk is full at {current_app.config['INDEX_PATH']} ({error.strerror}): free some "
                   "space and run `neuvo reindex` again; searches keep using the current index", err=True)
        sys.exit(1)
    prune_index_changes(session(), now=utcnow(),
                        keep=timedelta(days=current_app.config["INDEX_CHANGE_RETENTION_DAYS"]))
    commit()
    click.echo(f"Indexed {count} published articles")
    if matchers().current(session(), refit=True, progress=progress) is not None:
        click.echo("Suggester refitted")


def _refresh_renderings() -> None:
    """Render again the articles whose stored HTML and text a newer renderer would make differently."""
    from kb.services.helpcenter.article_render import refresh_renderings

    count = refresh_renderings(session())
    commit()
    if count:
        click.echo(f"Rendered {count} articles")


def _check_index() -> None:
    """Print how this server's search index differs from the database; exit 1 if it does."""
    from sqlalchemy import select

    from kb.models import Article
    from kb.services.helpcenter.search_index import index, index_drift
    from search import IndexUnavailable

    path = current_app.config["INDEX_PATH"]
    try:
        drift = index_drift(session(), index())
    except IndexUnavailable as error:
        session().rollback()
        click.echo(f"Search index at {path} is unavailable: {error}")
        sys.exit(1)
    ids = drift.missing | drift.extra | drift.stale
    slugs = dict(session().execute(select(Article.id, Article.slug).where(Article.id.in_(ids))).all())
    session().rollback()
    if drift.clean:
        click.echo(f"Search index at {path} matches the database")
        return
    click.echo(f"Search index at {path} differs from the database:")
    for label, group in (("published, missing from the index", drift.missing),
                         ("in the index, not published", drift.extra),
                         ("published, outdated in the index", drift.stale)):
        if group:
            shown = ", ".join(f"{i} {slugs.get(i, '(deleted)')}" for i in sorted(group)[:50])
            more = f" and {len(group) - 50} more" if len(group) > 50 else ""
            click.echo(f"  {len(group)} {label}: {shown}{more}")
    click.echo("Run `neuvo reindex` to rebuild it.")
    sys.exit(1)
