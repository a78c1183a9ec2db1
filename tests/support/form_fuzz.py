"""Fuzzing every HTML form of the demo shop (used by tests/web/test_properties.py).

Each form is found on the page that shows it, so the fields posted are the ones a
browser would post; hypothesis then chooses, per field, the page's own value, one
of its options, something odd, or nothing at all. An answer is judged by what a
user relies on: never a server error, and a refused form (4xx, or a redirect
with an error message) has committed nothing.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from io import BytesIO
from typing import Any

from flask import Flask
from hypothesis import strategies as st
from sqlalchemy import event, select

from kb.db import commit, database, session, utcnow
from kb.services.shop.demo import DEMO_CUSTOMER_PASSWORD, DEMO_STAFF_PASSWORD
from tests.support.html_forms import Field, form_fields, maybe_csrf_token

CUSTOMER, OTHER_CUSTOMER = "aino.virtanen@example.com", "mikko.korhonen@example.com"
AGENT, EDITOR, ADMIN = "agent@tupa.example", "editor@tupa.example", "admin@tupa.example"
#: Tables that showing a page writes to even when the form was refused: who is viewing a
#: ticket, and which suggested articles were shown (analytics, not the form's data).
PAGE_VIEW_TABLES = {"ticket_viewers", "article_events"}
ODD_VALUES = [
    "", " ", "0", "-1", "1.5", "²", "٣", "99999999999999999999", "1e309", "NaN", "true", "null", "[]", "{}",
    "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "'; DROP TABLE users; --", "../../etc/passwd",
    "%s%n%x", "\u202eevil", "\ufeff", "😀" * 50, "a" * 5000, "2026-02-30", "25:99", "x@y", "aino@example.com ",
    "\r\n\r\nBcc: x@evil.example", "javascript:alert(1)", "\x00",
]
FILE_CONTENTS = [b"%PDF-1.4\n%", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, b"GIF89a" + b"\0" * 16, b"<svg onload=alert(1)>",
                 b"<html><script>alert(1)</script>", b"MZ\x90\x00", b""]


# ---------- what the demo shop offers to post at

class Ids:
    """Ids the form URLs need, looked up (or created) in the demo shop on first use."""

    def __init__(self, app: Flask):
        self.app = app

    def _one(self, query: Any) -> Any:
        with self.app.app_context():
            return session().scalar(query)

    @cached_property
    def open_order(self) -> str:
        from kb.models import Order, OrderStatus
        return self._one(select(Order.number).where(Order.email == CUSTOMER, Order.status == OrderStatus.RECEIVED))

    @cached_property
    def open_line(self) -> int:
        from kb.models import Order, OrderLine
        return self._one(select(OrderLine.id).join(Order).where(Order.number == self.open_order))

    @cached_property
    def returnable_order(self) -> str:
        from kb.models import Order, OrderStatus
        from kb.services.errors import DomainError
        from kb.services.orders.returns import check_window
        with self.app.app_context():
            for order in session().scalars(select(Order).where(Order.email == CUSTOMER,
                                                               Order.status == OrderStatus.DELIVERED)):
                try:
                    check_window(order, now=utcnow(), window_days=14, timezone="Europe/Helsinki")
                except DomainError:
                    continue
                return order.number
        raise LookupError("the demo has no returnable order")

    @cached_property
    def ticket(self) -> int:
        """The newest open ticket with an e-mail address (an agent can answer it)."""
        from kb.models import Ticket, TicketStatus
        return self._one(select(Ticket.id).where(Ticket.customer_email != "",
                                                 Ticket.status.in_([TicketStatus.NEW, TicketStatus.OPEN]))
                         .order_by(Ticket.created_at.desc()))

    @cached_property
    def customer_inquiry(self) -> str:
        """The reference of an inquiry the demo customer sent (stored here: the demo's are by other people)."""
        from kb.models import ChannelKind, Ticket
        with self.app.app_context():
            ticket = Ticket(external_id="FUZZ-1", channel=ChannelKind.FORM, subject="Kysymys", body="Missä paketti?",
                            language="fi", customer_email=CUSTOMER, created_at=utcnow(), updated_at=utcnow(),
                            sender_confirmed_at=utcnow())
            session().add(ticket)
            commit()
            return ticket.external_id

    @cached_property
    def article(self) -> int:
        from kb.models import Article, ArticleStatus
        return self._one(select(Article.id).where(Article.language == "fi", Article.status == ArticleStatus.PUBLISHED)
                         .order_by(Article.id))

    @cached_property
    def article_slug(self) -> str:
        from kb.models import Article
        return self._one(select(Article.slug).where(Article.id == self.article))

    @cached_property
    def revision(self) -> int:
        """An earlier version of the article (saved once through the editor's service)."""
        from kb.models import ArticleRevision
        from kb.services.editorial import authoring as editorial
        with self.app.app_context():
            db = session()
            article = editorial.get_article(db, self.article)
            form = editorial.ArticleForm(title=article.title + " (muokattu)", body=article.body,
                                         language=article.language, category_id=article.category_id,
                                         slug=article.slug, tags=list(article.tags))
            editorial.update_article(db, article, form, expected=article.updated_at, by=None, now=utcnow())
            commit()
            return db.scalar(select(ArticleRevision.id).where(ArticleRevision.article_id == article.id)
                             .order_by(ArticleRevision.id))

    @cached_property
    def channel(self) -> int:
        from kb.models import Channel
        return self._one(select(Channel.id).order_by(Channel.id))

    @cached_property
    def special_day(self) -> int:
        from kb.models import SpecialDay
        return self._one(select(SpecialDay.id).order_by(SpecialDay.id.desc()))

    @cached_property
    def colleague(self) -> int:
        """A staff account other than the admin's own (the admin's user list shows staff)."""
        from kb.models import User
        return self._one(select(User.id).where(User.email == AGENT))

    @cached_property
    def snapshot(self) -> int:
        """A stored run of the suggested missing articles."""
        from kb.services.editorial.gap_review import refresh_snapshot
        with self.app.app_context():
            now = utcnow()
            snapshot = refresh_snapshot(session(), self.app.extensions["neuvo_matchers"].current(session()),
                                        as_of=now, now=now)
            commit()
            return snapshot.id

    @cached_property
    def reset_token(self) -> str:
        from kb.services.accounts.auth import start_password_reset
        with self.app.app_context():
            issued = start_password_reset(session(), OTHER_CUSTOMER, now=utcnow(), lifetime=timedelta(hours=1))
            commit()
            return issued.token

    @cached_property
    def survey_token(self) -> str:
        from kb.models import Ticket
        from kb.services.inquiries.surveys import send_survey
        with self.app.test_request_context():
            db = session()
            token = send_survey(db, db.get(Ticket, self.ticket), now=utcnow())
            commit()
            return token

    @cached_property
    def solved_token(self) -> str:
        from kb.services.inquiries.intake import solved_token
        return solved_token(self.app.config["SECRET_KEY"], self.ticket, self.article)


def demo_ids(app: Flask) -> Ids:
    return Ids(app)


@dataclass(frozen=True)
class FormCase:
    """Who posts the form, the page showing it and where it posts (URLs from the demo's ids)."""

    user: str | None
    page: Callable[[Ids], str]
    action: Callable[[Ids], str] | None = None  # None: the page posts to itself
    examples: int = 8
    #: Fields of a request made by a script rather than a <form> on the page.
    script_fields: tuple[str, ...] = ()


def _order(path: str) -> Callable[[Ids], str]:
    return lambda ids: f"/tilaus/{ids.open_order}/{path}"


def _ticket(path: str) -> Callable[[Ids], str]:
    return lambda ids: f"/agent/tickets/{ids.ticket}/{path}".rstrip("/")


def _topic(path: str) -> Callable[[Ids], str]:
    return lambda ids: f"/editor/suggestions/{ids.snapshot}/1/{path}"


CHANGE_PAGE = _order("muuta")
TICKET_PAGE = _ticket("")


def suggestions_page(ids: Ids) -> str:
    """The suggestions page, after storing a run of the gap miner to act on."""
    assert ids.snapshot
    return "/editor/suggestions"


def article_page(ids: Ids) -> str:
    return f"/editor/articles/{ids.article}"


FORMS: dict[str, FormCase] = {
    "account.add_product": FormCase(CUSTOMER, CHANGE_PAGE, _order("lisaa")),
    "account.cancel": FormCase(CUSTOMER, CHANGE_PAGE, _order("peru")),
    "account.change_address": FormCase(CUSTOMER, CHANGE_PAGE, _order("osoite")),
    "account.change_line": FormCase(CUSTOMER, CHANGE_PAGE, lambda ids: f"/tilaus/{ids.open_order}/rivi/{ids.open_line}"),
    "account.register_return": FormCase(CUSTOMER, lambda ids: f"/tilaus/{ids.returnable_order}/palautus"),
    "account.track": FormCase(None, lambda ids: "/fi/tilaus/seuranta"),
    # a guest's change page offers it; a logged-in owner needs no link (sent back to the change page): posted as
    # a script would
    "order_links.send_link": FormCase(CUSTOMER, CHANGE_PAGE, _order("linkki"), script_fields=("x",), examples=3),
    # the page behind a mailed link: a forged token is answered 404 whatever the form holds
    "order_links.open_link": FormCase(None, lambda ids: "/fi/tilaus/seuranta", lambda ids: "/tilaus/linkki/x",
                                      script_fields=("x",), examples=3),
    "admin.add_user": FormCase(ADMIN, lambda ids: "/admin/users"),
    "admin.change_role": FormCase(ADMIN, lambda ids: "/admin/users",
                                  lambda ids: f"/admin/users/{ids.colleague}/role"),
    "admin.set_active": FormCase(ADMIN, lambda ids: "/admin/users",
                                 lambda ids: f"/admin/users/{ids.colleague}/active"),
    "admin.edit_channel": FormCase(ADMIN, lambda ids: f"/admin/channels/{ids.channel}"),
    "admin.delete_channel": FormCase(ADMIN, lambda ids: f"/admin/channels/{ids.channel}",
                                     lambda ids: f"/admin/channels/{ids.channel}/delete", examples=4),
    "admin.special_days": FormCase(ADMIN, lambda ids: "/admin/special-days"),
    "admin.delete_special_day": FormCase(ADMIN, lambda ids: "/admin/special-days",
                                         lambda ids: f"/admin/special-days/{ids.special_day}/delete", examples=4),
    "admin.settings": FormCase(ADMIN, lambda ids: "/admin/settings"),
    "agent.reply": FormCase(AGENT, TICKET_PAGE, _ticket("reply")),
    "agent.note": FormCase(AGENT, TICKET_PAGE, _ticket("note")),
    "agent.change_status": FormCase(AGENT, TICKET_PAGE, _ticket("solve")),
    "agent.take": FormCase(AGENT, TICKET_PAGE, _ticket("take"), examples=4),
    "agent.assign": FormCase(AGENT, TICKET_PAGE, _ticket("assign")),
    "auth.login": FormCase(None, lambda ids: "/auth/login"),
    "auth.logout": FormCase(CUSTOMER, lambda ids: "/auth/profile", lambda ids: "/auth/logout", examples=3),
    "auth.signup": FormCase(None, lambda ids: "/auth/signup"),
    "auth.reset_request": FormCase(None, lambda ids: "/auth/reset"),
    # shown on the log-in page only after an unconfirmed account's password: posted as a script would
    "auth.resend_verification": FormCase(None, lambda ids: "/auth/login", lambda ids: "/auth/verify",
                                         script_fields=("email",)),
    "auth.reset_password": FormCase(None, lambda ids: f"/auth/reset/{ids.reset_token}"),
    "auth.profile": FormCase(CUSTOMER, lambda ids: "/auth/profile"),
    "auth.change_password": FormCase(CUSTOMER, lambda ids: "/auth/profile", lambda ids: "/auth/profile/password"),
    "two_step.setup": FormCase(CUSTOMER, lambda ids: "/auth/two-step/setup"),
    # shown only once two-step verification is on (or a log-in waits for its code): posted as a script would
    "two_step.verify": FormCase(None, lambda ids: "/auth/login", lambda ids: "/auth/two-step",
                                script_fields=("code",)),
    "two_step.recovery_codes": FormCase(CUSTOMER, lambda ids: "/auth/profile",
                                        lambda ids: "/auth/two-step/recovery-codes", script_fields=("code",)),
    "two_step.disable": FormCase(CUSTOMER, lambda ids: "/auth/profile", lambda ids: "/auth/two-step/disable",
                                 script_fields=("password", "code")),
    "admin.reset_two_step": FormCase(ADMIN, lambda ids: "/admin/users",
                                     lambda ids: f"/admin/users/{ids.colleague}/two-step/reset",
                                     script_fields=("note",), examples=3),
    # the customer's real password is never drawn, so every post is refused and the demo account stays
    "my_data.delete": FormCase(OTHER_CUSTOMER, lambda ids: "/auth/profile"),
    "inquiries.detail": FormCase(CUSTOMER, lambda ids: f"/tili/yhteydenotot/{ids.customer_inquiry}"),
    # the list shows a Log out button only for the account's other devices: posted as a script would
    "sessions.end": FormCase(CUSTOMER, lambda ids: "/auth/profile", lambda ids: "/auth/sessions/1/end",
                             script_fields=("x",), examples=3),
    "contact.form": FormCase(None, lambda ids: "/yhteydenotto", examples=12),
    "contact.solved": FormCase(None, lambda ids: f"/yhteydenotto/ratkaistu/{ids.solved_token}", examples=6),
    "contact.survey": FormCase(None, lambda ids: f"/kysely/{ids.survey_token}"),
    # behind the link mailed with a confirmation: a forged token is answered 404 whatever the form holds
    "contact.confirm_sender": FormCase(None, lambda ids: "/yhteydenotto", lambda ids: "/yhteydenotto/vahvista/x",
                                       script_fields=("x",), examples=3),
    "editor.new_article": FormCase(EDITOR, lambda ids: "/editor/articles/new", examples=15),
    "editor.edit_article": FormCase(EDITOR, article_page, examples=15),
    "editor.change_status": FormCase(EDITOR, article_page, lambda ids: f"/editor/articles/{ids.article}/status"),
    "editor.restore": FormCase(EDITOR, lambda ids: f"/editor/articles/{ids.article}/revisions",
                               lambda ids: f"/editor/articles/{ids.article}/revisions/{ids.revision}/restore"),
    "editor.preview": FormCase(EDITOR, article_page, lambda ids: "/editor/preview", script_fields=("body",)),
    "editor.categories": FormCase(EDITOR, lambda ids: "/editor/categories"),
    "editor.refresh_suggestions": FormCase(EDITOR, suggestions_page, lambda ids: "/editor/suggestions/refresh",
                                           examples=2),
    "editor.draft_from_topic": FormCase(EDITOR, suggestions_page, _topic("draft"), examples=4),
    "editor.cover_topic": FormCase(EDITOR, suggestions_page, _topic("cover")),
    "editor.dismiss_topic": FormCase(EDITOR, suggestions_page, _topic("dismiss")),
    "help.feedback": FormCase(None, lambda ids: f"/fi/a/{ids.article_slug}",
                              lambda ids: f"/fi/a/{ids.article_slug}/feedback"),
    # the "what was missing?" form appears only after a "No"; its fields are posted directly
    "help.feedback_missing": FormCase(None, lambda ids: f"/fi/a/{ids.article_slug}",
                                      lambda ids: f"/fi/a/{ids.article_slug}/feedback/missing",
                                      script_fields=("comment", "skip")),
}


def post_form_endpoints(app: Flask) -> set[str]:
    """Every endpoint a browser form can post to (the JSON API is fuzzed from its OpenAPI file)."""
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.endpoint.startswith(("api.", "api_shop."))}


# ---------- posting and judging

def _value(spec: Field) -> st.SearchStrategy[Any]:
    if spec.kind == "file":
        return st.one_of(st.none(), st.tuples(st.sampled_from(FILE_CONTENTS), st.binary(max_size=64),
                                              st.sampled_from(["kuva.png", "lasku.pdf", "x.svg", "x.html", "", "a/../b"])))
    choices = [spec.value, *spec.options]
    return st.one_of(st.sampled_from(choices), st.sampled_from(ODD_VALUES), st.text(max_size=300),
                     st.integers(-2**40, 2**40).map(str), st.none())


@dataclass
class Answer:
    """One post and what came of it."""

    url: str
    sent: dict[str, Any]
    status: int
    html: str
    content_type: str
    flashes: list[tuple[str, str]]
    written: set[str]


class WriteLog:
    """Tables changed by committed transactions (SQLAlchemy engine events)."""

    _DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)

    def __init__(self, app: Flask):
        self.pending: dict[int, set[str]] = {}
        self.committed: set[str] = set()
        engine = database(app).engine
        event.listen(engine, "after_cursor_execute", self._execute)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", lambda conn: self.pending.pop(id(conn), None))

    def _execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        match = self._DML.match(statement)
        if match:
            self.pending.setdefault(id(conn), set()).add(match.group(1).lower())

    def _commit(self, conn: Any) -> None:
        self.committed |= self.pending.pop(id(conn), set())

    def take(self) -> set[str]:
        written, self.committed = self.committed, set()
        return written


class FormFuzzer:
    """A client (logged in as the case's user) that posts generated values to one form."""

    def __init__(self, app: Flask, case: FormCase, ids: Ids):
        self.app, self.case = app, case
        self.client = app.test_client()
        self._log_in()
        page_url = case.page(ids)
        self.action = case.action(ids) if case.action else page_url
        page = self.client.get(page_url)
        assert page.status_code == 200, (page_url, page.status_code)
        html = page.get_data(as_text=True)
        if case.script_fields:
            self.fields = {name: Field(name, "textarea") for name in case.script_fields}
        else:
            self.fields = {k: v for k, v in form_fields(html, page_url, self.action).items() if k != "csrf_token"}
        self.token = maybe_csrf_token(html)
        assert self.token, f"{page_url} has no CSRF token"
        self.writes = WriteLog(app)

    def _log_in(self) -> None:
        if self.case.user is None:
            return
        html = self.client.get("/auth/login").get_data(as_text=True)
        password = DEMO_CUSTOMER_PASSWORD if self.case.user in (CUSTOMER, OTHER_CUSTOMER) else DEMO_STAFF_PASSWORD
        r = self.client.post("/auth/login", data={"email": self.case.user, "password": password,
                                                  "csrf_token": maybe_csrf_token(html)})
        assert r.status_code == 302, f"log-in as {self.case.user} failed"

    def _keep_session(self) -> None:
        """Log in again after a post that ended the session (log-out), with a fresh CSRF token."""
        with self.client.session_transaction() as state:
            lost = (self.case.user is not None and "_user_id" not in state) or "csrf_token" not in state
        if lost:
            self._log_in()
            self.token = maybe_csrf_token(self.client.get("/yhteydenotto").get_data(as_text=True))

    def post(self, data: st.DataObject) -> Answer:
        sent: dict[str, Any] = {"csrf_token": self.token}
        for name, spec in sorted(self.fields.items()):
            value = data.draw(_value(spec), label=name)
            if value is None:
                continue
            if spec.kind == "file":
                head, tail, filename = value
                sent[name] = (BytesIO(head + tail), filename)
            else:
                sent[name] = value
        self.writes.take()
        response = self.client.post(self.action, data=sent)
        written = self.writes.take()
        with self.client.session_transaction() as state:
            flashes = state.pop("_flashes", [])
        answer = Answer(self.action, {k: v for k, v in sent.items() if k != "csrf_token"}, response.status_code,
                        response.get_data(as_text=True), response.content_type, flashes, written)
        self._keep_session()
        return answer


def fuzz_form(app: Flask, case: FormCase, ids: Ids) -> FormFuzzer:
    return FormFuzzer(app, case, ids)


_SHOWN_ERROR = re.compile(r'class="[^"]*\b(?:flash-error|has-error)\b|class="field-error"(?![^>]*\bhidden\b)'
                          r'|aria-invalid="true"|<main[^>]*>\s*<h1>')


def check_form_answer(answer: Answer) -> None:
    """Never a server error; a refusal is shown, and stored nothing."""
    where = f"{answer.url} {answer.status} {answer.sent!r}"
    assert answer.status < 500, where
    refused = answer.status >= 400 or any(category == "error" for category, _ in answer.flashes)
    if refused:
        assert answer.written <= PAGE_VIEW_TABLES, f"refused, yet wrote {answer.written}: {where}"
    if answer.status in (400, 422) and answer.content_type.startswith("text/html"):
        assert _SHOWN_ERROR.search(answer.html), f"refused without showing why: {where}"
