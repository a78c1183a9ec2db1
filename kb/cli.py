"""The ``neuvo`` command line (a Flask CLI group); a stable interface, see DESIGN.md."""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from kb.db import commit, database, session, utcnow
from kb.services.errors import DomainError, InvalidInput

EXIT_BAD_INPUT = 2


def _make_app():  # type: ignore[no-untyped-def]
    from kb import create_app

    return create_app(require_secret=False)


def domain_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one clear message and exit status 2; nothing is committed."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InvalidInput as error:
            click.echo(f"Error: {error.describe()}", err=True)
        except DomainError as error:
            click.echo(f"Error: {error}", err=True)
        session().rollback()
        sys.exit(EXIT_BAD_INPUT)

    return wrapper


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
    from kb.services.search_index import index, rebuild

    upgrade(database().engine)
    counts = load_demo(session(), now=utcnow(), reset=reset)
    if counts is None:
        click.echo("The demo shop is already loaded (use --reset to load it afresh)")
        return
    rebuild(session(), index())
    commit()
    click.echo("Demo shop loaded: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def run_command(host: str, port: int) -> None:
    """Development server; in production use: gunicorn "kb:create_app()"."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "NEUVO_ENV" not in os.environ:
        app.config.update(ENV="development", SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    click.echo(f"Neuvo development server on http://{host}:{port}/ (Ctrl+C stops)")
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database."""
    from sqlalchemy import func, select

    from kb.models import Article, ArticleStatus
    from kb.services.search_index import index, rebuild

    total = session().scalar(select(func.count(Article.id)).where(Article.status == ArticleStatus.PUBLISHED)) or 0
    with click.progressbar(length=total, label="Indexing articles", file=sys.stderr) as bar:
        count = rebuild(session(), index(), progress=bar.update)
    commit()
    click.echo(f"Indexed {count} published articles")


@click.group("import")
def import_group() -> None:
    """Import articles, inquiries or orders from .jsonl or .csv files (all or nothing)."""


@import_group.command("articles")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
@domain_errors
def import_articles_command(file: str) -> None:
    """Import articles (upsert by slug)."""
    from kb.services.articles import upsert_articles
    from kb.services.importing import check_unique, load, parse_article
    from kb.services.search_index import drain_outbox, index

    items = load(file, parse_article)
    check_unique(items, lambda a: a.slug, "slug", file)
    try:
        created, updated = upsert_articles(session(), items, now=utcnow())
    except InvalidInput as error:
        error.source = file
        raise
    commit()
    drain_outbox(session(), index())
    commit()
    click.echo(f"Imported {len(items)} articles from {file}: {created} new, {updated} updated")


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
    click.echo(f"Created {user.role.value} {user.email}")


COMMANDS = [init_command, demo_command, run_command, reindex_command, import_group, user_group]


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    """Register the commands on ``app.cli`` (``neuvo`` and ``flask`` both find them there)."""
    for command in COMMANDS:
        app.cli.add_command(command)
