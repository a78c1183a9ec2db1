"""``neuvo mail parse`` and ``neuvo mail reparse``: the e-mail splitter on files and on stored tickets.

Registered on the ``mail`` group by :mod:`kb.cli`.
"""
from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from kb.cli_common import EXIT_BAD_INPUT, domain_errors
from kb.db import commit, session
from kb.services.errors import InvalidInput


@click.command("parse")
@click.argument("files", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message (the default output).")
def mail_parse_command(files: tuple[str, ...], as_json: bool) -> None:
    """Split .eml/.mbox messages into new text, quoted thread and signature; prints them, stores nothing."""
    from kb.services.mail.split import parse_files

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


@click.command("reparse")
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
