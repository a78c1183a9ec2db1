"""``neuvo mail``: send queued mail, fetch mail over IMAP, and the e-mail splitter on files and stored tickets."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from kb.cli.common import EXIT_BAD_INPUT, domain_errors
from kb.db import commit, session
from kb.services.errors import InvalidInput


@click.group("mail")
def mail_group() -> None:
    """E-mail: send queued mail, fetch incoming mail over IMAP, split messages into new text and quotes."""


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


@mail_group.command("parse")
@click.argument("files", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message (the default output).")
def mail_parse_command(files: tuple[str, ...], as_json: bool) -> None:
    """Split .eml/.mbox messages into new text, quoted thread and signature; prints them, stores nothing."""
    from kb.services.inquiries.email_intake import parse_files

    try:
        rows = parse_files(files)
    except InvalidInput as error:
        click.echo(f"Error: {error.describe()}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        click.echo(f"== {row['file']}: {row['subject']} ({row['from']}, {row['language'] or '?'})")
        for key in ("text", "quoted", "signature"):
            click.echo(f"-- {key}:\n{row[key]}" if row[key] else f"-- {key}: (none)")


@mail_group.command("reparse")
@with_appcontext
@domain_errors
def mail_reparse_command() -> None:
    """Split e-mail stored whole into new text, quoted thread and signature (once; safe to run again)."""
    from kb.services.mail.split import reparse

    def progress(chunks):  # type: ignore[no-untyped-def]
        with click.progressbar(chunks, label="Splitting stored e-mail", file=sys.stderr) as items:
            yield from items

    result = reparse(session(), progress=progress)
    commit()
    click.echo(f"Split {result.tickets} tickets and {result.messages} replies; "
               "e-mail split before was left as it is")
