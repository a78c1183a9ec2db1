"""The ``neuvo`` command line (a Flask CLI group); a stable interface, see DESIGN.md."""
from __future__ import annotations

import json
import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from kb.cli_common import (
    EXIT_BAD_INPUT,
    _progress,
    domain_errors,
    embed_for_answer,
    matchers,
    prepare_vectors,
)
from kb.cli_import import (  # noqa: F401 (the import commands stay importable from kb.cli)
    import_articles_command,
    import_email_command,
    import_group,
    import_inquiries_command,
    import_orders_command,
)
from kb import security_log
from kb.cli_privacy import privacy_group
from kb.db import commit, database, session, utcnow
from kb.services.errors import InvalidInput


def _make_app():  # type: ignore[no-untyped-def]
    from kb import create_app

    return create_app(require_secret=False)


@click.group(cls=FlaskGroup, create_app=_make_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Neuvo help center: database, demo data, imports, search index and suggester."""


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database to the newest schema, and create the search index."""
    from kb.migrate import upgrade
    from kb.services.search_index import ensure_index, index

    before, after = upgrade(database().engine)
    click.echo(f"Database at revision {after}" + (" (unchanged)" if before == after else f" (was {before})"))
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
    from kb.services.demo import load_demo
    from kb.services.demo_history import search_history
    from kb.services.search_index import index
    from kb.services.suggestions import refresh_derived

    upgrade(database().engine)
    counts = load_demo(session(), now=utcnow(), reset=reset)
    if counts is None:
        click.echo("The demo shop is already loaded (use --reset to load it afresh)")
        return
    session().flush()
    prepare_vectors()
    refresh_derived(session(), index(), matchers(), now=utcnow(), progress=_progress)
    search_history(session(), index(), now=utcnow())
    commit()
    click.echo("Demo shop loaded: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    from kb.services.demo import DEMO_ACCOUNTS, demo_password

    click.echo("Demo accounts (e-mail, role, password):")
    for email, role, _, _ in DEMO_ACCOUNTS:
        click.echo(f"  {email:<32} {role.value:<9} {demo_password(role)}")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def run_command(host: str, port: int) -> None:
    """Development server; in production use: gunicorn "kb:create_app()"."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "NEUVO_ENV" not in os.environ:
        # plain HTTP: browsers refuse Secure and __Host- cookies there
        app.config.update(ENV="development", SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False,
                          SESSION_COOKIE_NAME="session", REMEMBER_COOKIE_NAME="remember_token")
    click.echo(f"Neuvo development server on http://{host}:{port}/ (Ctrl+C stops)")
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


@click.command("reindex")
@click.option("--check", is_flag=True,
              help="Only compare the index with the database and list the differences; exit 1 if any.")
@with_appcontext
def reindex_command(check: bool) -> None:
    """Rebuild this server's search index from the database and refit the suggester."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from kb.models import Article, ArticleStatus
    from kb.services.search_index import index, prune_index_changes, rebuild
    from search import IndexBusy

    if check:
        _check_index()
        return
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
        from kb.errors import is_temporary

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
    if matchers().current(session(), refit=True, progress=_progress) is not None:
        click.echo("Suggester refitted")


def _check_index() -> None:
    """Print how this server's search index differs from the database; exit 1 if it does."""
    from sqlalchemy import select

    from kb.models import Article
    from kb.services.search_index import index, index_drift
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


@click.group("mail")
def mail_group() -> None:
    """E-mail: send the queued outgoing mail, fetch incoming mail from the IMAP mailbox."""


@mail_group.command("send")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000),
              help="Send at most this many messages.")
@with_appcontext
def mail_send_command(limit: int) -> None:
    """Send the queued mail that is due (SMTP, or .eml files without NEUVO_MAIL_SERVER); failures retry later."""
    from kb.jobs import send_queued_mail

    report = send_queued_mail(limit=limit)
    click.echo(f"Sent {report.sent}, failed {report.failed} (given up), {report.retrying} to retry later")
    if report.last_error:
        click.echo(f"Last error: {report.last_error}", err=True)


@mail_group.command("poll")
@with_appcontext
def mail_poll_command() -> None:
    """Fetch unseen messages over IMAP (SSL) into tickets; marked seen once stored."""
    from kb.jobs import MailboxError, imap_configured, poll_mailbox

    if not imap_configured():
        click.echo("Error: IMAP is not configured: set NEUVO_IMAP_HOST, NEUVO_IMAP_USERNAME and "
                   "NEUVO_IMAP_PASSWORD (optional: NEUVO_IMAP_PORT, NEUVO_IMAP_FOLDER)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    try:
        result = poll_mailbox()
    except MailboxError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    for reason in result.skipped:  # left unseen in the mailbox for a person to look at
        click.echo(f"Skipped message {reason}", err=True)
    click.echo(f"Fetched {result.fetched} messages: {result.created} new tickets, {result.updated} updated, "
               f"{result.appended} replies added to existing tickets, {result.acknowledged} acknowledged")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit (status 1 if a job failed).")
@click.option("--interval", default=60.0, show_default=True, type=click.FloatRange(0.1, 86_400),
              help="Seconds between rounds.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Background work in rounds: send mail, poll IMAP, update the search index, refresh suggested articles."""
    from kb.worker import JobOutcome, Worker

    def report(outcome: JobOutcome) -> None:
        if outcome.summary is not None or once:
            click.echo(f"[{outcome.job}] {outcome.summary or 'nothing to do'}", err=outcome.failed)

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not once:
        click.echo(f"Neuvo worker: a round every {interval:g} s (SIGTERM or Ctrl+C ends it after the round)")
    ok = Worker(app, interval=interval, report=report).run(once=once)
    if not once:
        click.echo("Neuvo worker stopped")
    elif not ok:
        sys.exit(1)


@click.group("suggest")
def suggest_group() -> None:
    """The suggester: articles for an inquiry, and the questions no article answers."""


@suggest_group.command("gaps")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366), help="Window length.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 100), help="Topics to list.")
@click.option("--as-of", "as_of", default=None, help="End of the window (ISO 8601; no zone = UTC). Default: now.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see DESIGN.md).")
@with_appcontext
@domain_errors
def suggest_gaps_command(days: int, top: int, as_of: str | None, as_json: bool) -> None:
    """The most-asked questions of the window that no published article answers."""
    from kb.services.importing import timestamp
    from kb.services.suggestions import find_gaps
    from kb.views.formats import gap_report_json

    end = timestamp({"--as-of": as_of}, "--as-of") if as_of else utcnow()
    embedded = prepare_vectors()
    matcher = matchers().current(session(), refit=embedded > 0, progress=_progress)
    report = find_gaps(session(), matcher, as_of=end, days=days, top=top, progress=_progress)
    session().rollback()
    if as_json:
        click.echo(json.dumps(gap_report_json(report), ensure_ascii=False))
        return
    click.echo(f"{report.inquiries} inquiries from {report.window_start:%Y-%m-%d %H:%M} to "
               f"{report.window_end:%Y-%m-%d %H:%M} UTC; {len(report.topics)} topics no article answers")
    for topic in report.topics:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(topic.languages.items(), key=lambda kv: -kv[1]))
        nearest = f"{topic.nearest_article} ({topic.nearest_similarity:.2f})" if topic.nearest_article else "none"
        click.echo(f"\n{topic.rank:>2}. {topic.title}\n    {topic.size} inquiries · {langs} · "
                   f"terms: {', '.join(topic.terms[:6])} · nearest article: {nearest}")
        for example in topic.examples[:3]:
            click.echo(f"      - {example[:110]}")


@suggest_group.command("refresh")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366), help="Window length.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 100), help="Topics to keep.")
@click.option("--as-of", "as_of", default=None, help="End of the window (ISO 8601; no zone = UTC). Default: now.")
@with_appcontext
@domain_errors
def suggest_refresh_command(days: int, top: int, as_of: str | None) -> None:
    """Run the gap miner and store the editors' suggested-articles list (`neuvo worker` does it on its own)."""
    from kb.jobs import run_gap_refresh
    from kb.services.importing import timestamp

    end = timestamp({"--as-of": as_of}, "--as-of") if as_of else utcnow()
    snapshot = run_gap_refresh(as_of=end, days=days, top=top, progress=_progress)
    topics = snapshot.report["topics"]
    click.echo(f"Stored suggested articles #{snapshot.id}: {len(topics)} topics from "
               f"{snapshot.report['inquiries']} inquiries ({snapshot.window_start:%Y-%m-%d} to "
               f"{snapshot.window_end:%Y-%m-%d})")


@suggest_group.command("attach")
@click.option("--text", "text_", default=None, help="One inquiry's text.")
@click.option("--file", "file", default=None, type=click.Path(dir_okay=False),
              help=".jsonl/.csv of inquiries (id, subject, body, language) or .txt, one per line.")
@click.option("--k", default=5, show_default=True, type=click.IntRange(1, 50))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, in input order.")
@with_appcontext
@domain_errors
def suggest_attach_command(text_: str | None, file: str | None, k: int, as_json: bool) -> None:
    """Rank articles for inquiries and say whether the best one surely answers."""
    from kb.services.suggestions import rank_texts
    from kb.services.tickets import read_texts
    from kb.views.formats import ranking_json

    if (text_ is None) == (file is None):
        raise InvalidInput("give exactly one of --text and --file", field="--text/--file")
    items = [("text", text_, None)] if text_ is not None else read_texts(file)
    embedded = prepare_vectors()
    matcher = matchers().current(session(), refit=embedded > 0, progress=_progress)
    texts = [t for _, t, _ in items]
    vectors = embed_for_answer(texts) if matcher is not None and matcher.uses_semantic else None
    rankings = rank_texts(matcher, texts, [lang for _, _, lang in items], k=k, vectors=vectors)
    session().rollback()
    for (item_id, _, _), ranking in zip(items, rankings):
        if as_json:
            click.echo(json.dumps(ranking_json(item_id, ranking), ensure_ascii=False))
        else:
            best = ", ".join(f"{s.slug} ({s.score:.2f})" for s in ranking.suggestions) or "no articles"
            click.echo(f"{item_id}\t{'confident' if ranking.confident else 'not sure'}\t{best}")


@click.group("user")
def user_group() -> None:
    """Manage user accounts."""


@user_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["customer", "agent", "editor", "admin"]))
@click.option("--name", default="")
@click.option("--language", default="fi", type=click.Choice(["fi", "sv", "en"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
@domain_errors
def user_add_command(email: str, role: str, name: str, language: str, password_stdin: bool) -> None:
    """Create a user; without --password-stdin the password is asked for."""
    from kb.models import Role
    from kb.services.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = create_user(session(), email, role=Role(role), password=password, name=name,
                       language=language, now=utcnow())
    commit()
    security_log.record("user_added", user=user)
    click.echo(f"Created {user.role.value} {user.email}")


@user_group.command("ref")
@click.argument("email")
@with_appcontext
def user_ref_command(email: str) -> None:
    """Print the pseudonym (``email_ref``) under which the security log records this address."""
    if current_app.config.get("SECRET_KEY_GENERATED"):
        click.echo("Error: set NEUVO_SECRET_KEY (or SECRET_KEY in instance/config.py) to the web app's key: "
                   "the log's pseudonyms are keyed with it", err=True)
        sys.exit(2)
    click.echo(security_log.email_ref(email))


@click.group("token")
def token_group() -> None:
    """API tokens for the shop platform (bearer tokens, stored hashed)."""


@token_group.command("add")
@click.argument("name")
@with_appcontext
@domain_errors
def token_add_command(name: str) -> None:
    """Create an API token and print it once (only its SHA-256 is stored)."""
    from kb.services.api_tokens import create_token

    _, secret = create_token(session(), name, now=utcnow())
    commit()
    security_log.record("api_token_added", token_name=name)
    click.echo(f"Created API token {name!r}. Copy it now, it is not shown again:", err=True)
    click.echo(secret)


@token_group.command("revoke")
@click.argument("name")
@with_appcontext
@domain_errors
def token_revoke_command(name: str) -> None:
    """Revoke the API token(s) with this name; calls using them get 401 from now on."""
    from kb.services.api_tokens import revoke_token

    count = revoke_token(session(), name, now=utcnow())
    commit()
    security_log.record("api_token_revoked", token_name=name, revoked=count)
    click.echo(f"Revoked {count} token(s) named {name!r}")


COMMANDS = [init_command, demo_command, run_command, reindex_command, import_group, suggest_group, user_group,
            token_group, mail_group, worker_command, privacy_group]


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    """Register the commands on ``app.cli`` (``neuvo`` and ``flask`` both find them there)."""
    for command in COMMANDS:
        app.cli.add_command(command)
