"""``neuvo privacy``: a person's data on request, erasing it, and erasing what was kept too long.

Registered on the command line by :mod:`kb.cli` (``COMMANDS``); the rules are in
:mod:`kb.services.accounts.privacy`.
"""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from kb import security_log
from kb.cli.common import EXIT_BAD_INPUT, domain_errors
from kb.db import commit, session, utcnow


@click.group("privacy")
def privacy_group() -> None:
    """Personal data: export it, erase it on request, erase it after the retention period."""


@privacy_group.command("export")
@click.argument("email")
@with_appcontext
@domain_errors
def privacy_export_command(email: str) -> None:
    """Print, as JSON, everything stored about the person with this address (GDPR art. 15 and 20)."""
    from kb.services.accounts.privacy import personal_data

    data = personal_data(session(), email)
    session().rollback()
    security_log.record("personal_data_exported", email=email)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@privacy_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
@domain_errors
def privacy_erase_command(email: str, yes: bool) -> None:
    """Erase the person with this address: inquiries anonymised, mail deleted, account removed (art. 17)."""
    from kb.services.accounts.privacy import erase_person

    if not yes and not click.confirm(f"Erase every personal detail of {email}? This cannot be undone", err=True):
        click.echo("Nothing was erased.", err=True)
        sys.exit(EXIT_BAD_INPUT)
    erasure = erase_person(session(), email, now=utcnow())
    commit()
    security_log.record("personal_data_erased", email=email, tickets=erasure.tickets,
                        account_deleted=erasure.account_deleted)
    click.echo(f"Erased {email}: {erasure.tickets} inquiries anonymised ({erasure.messages} messages, "
               f"{erasure.attachments} attachments deleted), {erasure.mails} e-mails deleted, "
               f"account {'deleted' if erasure.account_deleted else 'none'}")
    if erasure.kept_orders:
        click.echo(f"Kept for bookkeeping (delete them in the shop's platform when their time is up): orders "
                   f"{', '.join(erasure.kept_orders)}")


@privacy_group.command("purge")
@click.option("--days", type=click.IntRange(1, 36_500), default=None,
              help="Retention in days (default: PERSONAL_DATA_RETENTION_DAYS).")
@with_appcontext
@domain_errors
def privacy_purge_command(days: int | None) -> None:
    """Anonymise solved and closed inquiries older than the retention period; delete old sent mail."""
    from kb.services.accounts.privacy import purge_expired

    days = days or int(current_app.config["PERSONAL_DATA_RETENTION_DAYS"] or 0)
    if days <= 0:
        click.echo("Error: no retention period: give --days or set NEUVO_PERSONAL_DATA_RETENTION_DAYS", err=True)
        sys.exit(EXIT_BAD_INPUT)
    erasure = purge_expired(session(), now=utcnow(), days=days)
    commit()
    click.echo(f"Older than {days} days: {erasure.tickets} inquiries anonymised, {erasure.attachments} "
               f"attachments and {erasure.mails} sent e-mails deleted")
