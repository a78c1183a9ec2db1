"""``neuvo user`` and ``neuvo token``: staff and customer accounts, and the shop platform's API tokens."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from kb import security_log
from kb.cli.common import domain_errors
from kb.db import commit, session, utcnow


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
    from kb.services.accounts.users import create_user

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
    from kb.services.accounts.api_tokens import create_token

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
    from kb.services.accounts.api_tokens import revoke_token

    count = revoke_token(session(), name, now=utcnow())
    commit()
    security_log.record("api_token_revoked", token_name=name, revoked=count)
    click.echo(f"Revoked {count} token(s) named {name!r}")
