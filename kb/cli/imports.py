"""``neuvo import``: articles, inquiries, orders and e-mail from files; all or nothing.

Registered on the command line by :mod:`kb.cli` (``COMMANDS``).
"""
from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app
from flask.cli import with_appcontext

from kb.cli.common import domain_errors, from_file, prepare_vectors, progress, vector_bar
from kb.db import commit, session, utcnow
from kb.jobs import store_mails
from kb.services.editorial.suggestions import matchers


@click.group("import")
def import_group() -> None:
    """Import articles, inquiries, orders (.jsonl or .csv) or e-mail (.eml, .mbox); all or nothing."""


def import_command(name: str) -> Callable[[Callable[[str], None]], click.Command]:
    """``neuvo import NAME FILE``: in the app's context, a domain error one clear message and exit status 2."""
    def register(command: Callable[[str], None]) -> click.Command:
        return import_group.command(name)(click.argument("file", type=click.Path(dir_okay=False))(
            with_appcontext(domain_errors(command))))
    return register


@import_command("articles")
def import_articles_command(file: str) -> None:
    """Import articles (upsert by slug)."""
    from kb.services.helpcenter.articles import upsert_articles
    from kb.services.importing import check_unique, load, parse_article
    from kb.services.helpcenter.search_index import drain_outbox, index

    items = load(file, parse_article)
    check_unique(items, lambda a: a.slug, "slug", file)
    with from_file(file):
        created, updated = upsert_articles(session(), items, now=utcnow())
    commit()
    drain_outbox(session(), index())
    commit()
    prepare_vectors()
    click.echo(f"Imported {len(items)} articles from {file}: {created} new, {updated} updated")


@import_command("inquiries")
def import_inquiries_command(file: str) -> None:
    """Import customer inquiries (upsert by id) and attach suggested articles to each."""
    from kb.services.importing import check_unique, load
    from kb.services.editorial.suggestions import attach_suggestions
    from kb.services.inquiries.tickets import parse_inquiry, upsert_inquiries

    items = load(file, parse_inquiry)
    check_unique(items, lambda i: i.id, "id", file)
    now = utcnow()
    with from_file(file):
        tickets, created = upsert_inquiries(session(), items, now=now)
    encoder = matchers().encoder()
    if encoder is not None:  # the vectors are written with the inquiries: all or nothing
        from kb.services.editorial.text_vectors import embed_missing, missing_texts

        texts = missing_texts(session(), encoder)
        with vector_bar(len(texts)) as bar:
            embed_missing(session(), encoder, texts=texts, progress=bar)
    matcher = matchers().current(session(), refit=True, progress=progress)
    attach_suggestions(session(), tickets, matcher, now=now)
    commit()
    click.echo(f"Imported {len(items)} inquiries from {file}: {created} new, {len(items) - created} updated")


@import_command("orders")
def import_orders_command(file: str) -> None:
    """Import orders from .jsonl (upsert by number; customers' own changes are kept)."""
    from kb.services.orders.order_import import load_orders, upsert_orders

    items = load_orders(file)
    with from_file(file):
        _, created = upsert_orders(session(), items, now=utcnow())
    commit()
    click.echo(f"Imported {len(items)} orders from {file}: {created} new, {len(items) - created} updated")


@import_command("email")
def import_email_command(file: str) -> None:
    """Import e-mail from an .eml or .mbox file: new tickets, or replies added to their ticket."""
    from kb.services.inquiries.email_intake import parse_mail_file

    config = current_app.config
    mails = parse_mail_file(file, max_files=config["ATTACHMENT_MAX_FILES"], max_bytes=config["ATTACHMENT_MAX_BYTES"],
                            allowed=config["ATTACHMENT_TYPES"])
    result = store_mails(mails)
    commit()
    click.echo(f"Imported {len(mails)} messages from {file}: {result.created} new tickets, {result.updated} updated, "
               f"{result.appended} replies added to existing tickets")
