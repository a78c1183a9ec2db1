"""Every GET page of the URL map with test values for its arguments, the accounts that open them, and the
user text (long, unbroken, hostile) that pages must hold without widening."""
from __future__ import annotations

import re

from kb.models import Role

ACCOUNTS = {Role.CUSTOMER.value: "aino.virtanen@example.com", Role.AGENT.value: "agent@tupa.example",
            Role.EDITOR.value: "editor@tupa.example", Role.ADMIN.value: "admin@tupa.example"}

#: GET routes that answer with something other than an HTML page (files, JSON, redirects).
NOT_PAGES = {"static", "favicon", "root", "api.openapi", "api.search", "api.article", "admin.dashboard_csv",
             "account.invoice_pdf", "agent.attachment", "agent.presence", "my_data.download",
             "contact.open_article", "admin.index"}

#: Hostile text a visitor can put on staff pages: a long search without spaces (dashboard, search page).
LONG_QUERY = "a" * 3000

#: Pages beyond the URL map's own: user text that must not widen a page.
EXTRA_PAGES = {"anonymous": ["/fi/search?q=" + LONG_QUERY, "/fi/search?q=palautus", "/sv/", "/en/"],
               Role.ADMIN.value: ["/admin/dashboard"]}


def seed_user_text(app) -> None:
    """What the demo shop lacks and users produce: a return, an inquiry with a long unbroken word, a revision,
    and a visitor's hostile search often enough to reach the dashboard's table of failed searches."""
    from sqlalchemy import select

    from kb.db import commit, session, utcnow
    from kb.models import Article, Order, OrderStatus, Ticket, User
    from kb.models.shop import ChannelKind
    from kb.services.orders import returns as return_rules
    from kb.services.editorial.authoring import ArticleForm, update_article
    from kb.services.helpcenter.search_log import log_search

    customer = ACCOUNTS[Role.CUSTOMER.value]
    with app.app_context():
        db = session()
        delivered = db.scalar(select(Order).where(Order.email == customer, Order.status == OrderStatus.DELIVERED)
                              .order_by(Order.delivered_at.desc()))
        return_rules.register_return(db, delivered, return_rules.ReturnRequest(
            lines={delivered.lines[0].id: 1}, reason="wrong_size", resolution="refund", comment=LONG_QUERY[:500],
            idempotency_key="browser-pages-return-1"), now=utcnow())
        user = db.scalar(select(User).where(User.email == customer))
        db.add(Ticket(external_id="T-990001", channel=ChannelKind.FORM, subject="Pitkä " + LONG_QUERY[:200],
                      body="Hei! " + LONG_QUERY[:1000], language="fi", customer_email=customer, user_id=user.id,
                      customer_name="Aino Virtanen", inquiry_type="other", created_at=utcnow(),
                      updated_at=utcnow()))
        article = db.scalar(select(Article).order_by(Article.id))
        update_article(db, article, ArticleForm(title=article.title, body=article.body + "\n\n" + LONG_QUERY[:400],
                                                language=article.language, category_id=article.category_id,
                                                slug=article.slug, tags=article.tags,
                                                translation_of_id=article.translation_of_id),
                       expected=article.updated_at, by=None, now=utcnow())
        for visitor in range(8):  # asked often enough to rank among the dashboard's failed searches
            log_search(db, LONG_QUERY, language="fi", category=None, result_count=0, visitor=f"v{visitor}",
                       now=utcnow())
        commit()


def _url_values(app) -> dict[str, dict[str, str]]:
    """Real values from the demo shop for every URL argument, per endpoint (``*`` for any)."""
    from sqlalchemy import select

    from kb.db import session
    from kb.models import (Article, ArticleRevision, ArticleStatus, Category, Channel, Invoice, Order,
                           OrderStatus, Return, Ticket)
    from kb.services.inquiries.replies import reference

    customer = ACCOUNTS[Role.CUSTOMER.value]
    with app.app_context():
        db = session()
        article = db.scalar(select(Article).where(Article.status == ArticleStatus.PUBLISHED, Article.language == "fi")
                            .order_by(Article.id))
        revision = db.scalar(select(ArticleRevision).order_by(ArticleRevision.id.desc()))
        changeable = db.scalar(select(Order).where(Order.email == customer, Order.status.in_(
            [OrderStatus.RECEIVED, OrderStatus.PAID])).order_by(Order.id))
        invoice = db.scalar(select(Invoice).join(Order).where(Order.email == customer).order_by(Invoice.id))
        rma = db.scalar(select(Return.rma).join(Order).where(Order.email == customer).order_by(Return.id))
        ticket = db.scalar(select(Ticket).where(Ticket.external_id == "T-990001"))
        category = db.scalar(select(Category.slug).order_by(Category.id))
        channel = db.scalar(select(Channel.id).order_by(Channel.id))
        assert None not in (article, revision, changeable, invoice, rma, ticket, category, channel)
        return {
            "*": {"lang": "fi", "token": "no-such-token", "reference": ticket.external_id},
            "help.article": {"slug": article.slug}, "help.category": {"slug": category},
            "account.order": {"number": changeable.number}, "account.change": {"number": changeable.number},
            "account.register_return": {"number": changeable.number},
            "account.invoice": {"number": invoice.number},
            "account.return_status": {"rma": rma}, "account.return_label": {"rma": rma},
            "inquiries.detail": {"ref": reference(ticket)},
            "agent.ticket": {"ticket_id": str(ticket.id)},
            "editor.edit_article": {"article_id": str(article.id)},
            "editor.article_health_page": {"article_id": str(article.id)},
            "editor.revisions": {"article_id": str(revision.article_id)},
            "editor.revision": {"article_id": str(revision.article_id), "revision_id": str(revision.id)},
            "admin.edit_channel": {"channel_id": str(channel)},
        }


def page_urls(app) -> list[str]:
    """Every GET page of the URL map with its arguments filled in; fails on an argument without a value."""
    values = _url_values(app)
    urls, missing = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        args = {**values["*"], **values.get(rule.endpoint, {})}
        if unknown := [name for name in rule.arguments if name not in args]:
            missing.append(f"{rule.endpoint}: {unknown}")
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+(?:\([^>]*\))?:)?{name}>", args[name], url)
        urls.append(url)
    assert missing == [], "routes without test values (add them to _url_values): " + ", ".join(missing)
    return sorted(set(urls))
