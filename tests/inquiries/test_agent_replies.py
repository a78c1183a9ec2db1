"""Agents' replies through the real forms (linked answers, stale versions, notes, solving, macros, CSRF)
and the reply rules of kb.services.inquiries.replies directly."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.models import (ArticleEvent, ArticleEventKind, LinkSource, Macro, MessageKind, OutgoingMail, Ticket,
                       TicketArticleLink, TicketMessage, TicketStatus, User)
from kb.services.inquiries import replies
from tests.support.agent_helpers import CUSTOMER, get_ticket, outbox, page_part, sign_in, suggest
from tests.support.auth_helpers import csrf_of
from tests.conftest import both_backends


# ---------- helpers

def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def post_reply(client, ticket_id: int, body: str, *, page: str | None = None, **extra):
    page = page if page is not None else client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "version": version_of(page), "body": body, **extra}
    return client.post(f"/agent/tickets/{ticket_id}/reply", data=data)


# ---------- replies

@both_backends
def test_reply_with_linked_answer_is_mailed_and_recorded(app, client, agent, make_ticket, articles) -> None:
    ticket_id = make_ticket(language="en", subject="Where is my parcel?")
    suggest(app, ticket_id, (articles["fi"], 0.7))
    linked = f'{articles["en"]},{articles["draft"]},987654,abc'
    r = post_reply(client, ticket_id, "Hello Aino,\n\nsee http://localhost/en/a/tracking-your-order", linked=linked)
    assert r.status_code == 302
    ticket = get_ticket(app, ticket_id)
    assert ticket.status is TicketStatus.WAITING and ticket.first_response_at is not None and ticket.version == 2
    with app.app_context():
        links = session().scalars(select(TicketArticleLink)).all()
        assert [(l.article_id, l.source, l.linked_by_id) for l in links] == [(articles["en"], LinkSource.AGENT, agent)]
        inserted = session().scalars(select(ArticleEvent.article_id)
                                     .where(ArticleEvent.kind == ArticleEventKind.INSERTED)).all()
        assert inserted == [articles["en"]]
        reply = session().scalar(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id))
        assert reply.kind is MessageKind.REPLY and reply.author_id == agent
    mails = outbox(app)
    assert len(mails) == 1 and mails[0]["To"] == CUSTOMER
    assert mails[0]["Subject"] == f"Re: Where is my parcel? [{ticket.external_id}]"
    assert "tracking-your-order" in mails[0].get_content()
    first = ticket.first_response_at
    # a second reply keeps the first response time
    post_reply(client, ticket_id, "One more thing.")
    assert get_ticket(app, ticket_id).first_response_at == first


def test_forged_linked_ids_create_no_links(app, client, agent, make_ticket, articles) -> None:
    ticket_id = make_ticket()
    r = post_reply(client, ticket_id, "Vastaus", linked=f'{articles["draft"]} 0 -1 99999999999999 <script>')
    assert r.status_code == 302
    with app.app_context():
        assert session().scalar(select(func.count(TicketArticleLink.id))) == 0
        assert session().scalar(select(func.count(ArticleEvent.id))
                                .where(ArticleEvent.kind == ArticleEventKind.INSERTED)) == 0


@both_backends
def test_stale_reply_is_refused_and_the_draft_kept(app, client, agent, make_user, make_ticket) -> None:
    make_user("pekka@tupa.example", name="Pekka")
    ticket_id = make_ticket()
    page_a = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    colleague = app.test_client()
    sign_in(colleague, "pekka@tupa.example")
    # Liisa is shown to Pekka as viewing the ticket
    page_b = colleague.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    assert "Also viewing now: Liisa" in page_b
    presence = colleague.get(f"/agent/tickets/{ticket_id}/presence").get_json()
    assert presence["version"] == 1 and [v["name"] for v in presence["viewers"]] == ["Liisa"]
    assert post_reply(colleague, ticket_id, "Pekan vastaus", page=page_b).status_code == 302
    assert client.get(f"/agent/tickets/{ticket_id}/presence").get_json()["version"] == 2

    r = post_reply(client, ticket_id, "Liisan luonnos <b>", page=page_a, linked="5")
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert 'role="alert"' in html and "your draft is kept" in html
    assert "Liisan luonnos &lt;b&gt;</textarea>" in html  # the draft, as text
    assert "Pekan vastaus" in page_part(html, '<section id="conversation"', "</section>")  # the news
    assert version_of(html) == "2"
    with app.app_context():
        bodies = session().scalars(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket_id)).all()
        assert bodies == ["Pekan vastaus"]
    assert len(outbox(app)) == 1


def test_empty_reply_is_refused_with_a_message(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket()
    r = post_reply(client, ticket_id, "   ")
    assert r.status_code == 400 and "Write a message first." in r.get_data(as_text=True)
    assert outbox(app) == []


def test_notes_are_never_mailed(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket()
    page = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    r = client.post(f"/agent/tickets/{ticket_id}/note", data={"csrf_token": csrf_of(page), "note": "Soitin asiakkaalle"})
    assert r.status_code == 302
    assert outbox(app) == []
    ticket = get_ticket(app, ticket_id)
    assert ticket.version == 1 and ticket.first_response_at is None
    with app.app_context():
        note = session().scalar(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id))
        assert note.kind is MessageKind.NOTE and note.body == "Soitin asiakkaalle"


@both_backends
def test_solve_records_handling_time_and_sends_the_survey(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket(created_at=utcnow() - timedelta(hours=3))
    page = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    r = client.post(f"/agent/tickets/{ticket_id}/solve", data={"csrf_token": csrf_of(page), "version": version_of(page)})
    assert r.status_code == 302
    ticket = get_ticket(app, ticket_id)
    assert ticket.status is TicketStatus.SOLVED and ticket.solved_at is not None
    html = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    assert re.search(r"data-handling-time>3 h 0 min<", html)
    [survey] = outbox(app)  # solving sends the customer the one-question survey
    assert survey["To"] == CUSTOMER and re.search(r"http://localhost/kysely/[\w-]+", survey.get_content())
    # close, then reopen; a stale status change is refused
    page = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    client.post(f"/agent/tickets/{ticket_id}/close", data={"csrf_token": csrf_of(page), "version": version_of(page)})
    assert get_ticket(app, ticket_id).status is TicketStatus.CLOSED
    r = client.post(f"/agent/tickets/{ticket_id}/reopen", data={"csrf_token": csrf_of(page), "version": version_of(page)})
    assert r.status_code == 409 and get_ticket(app, ticket_id).status is TicketStatus.CLOSED


def test_macros_in_the_ticket_language_are_offered(app, client, agent, make_ticket) -> None:
    with app.app_context():
        session().add_all([Macro(title="Kiitos", language="fi", body="Kiitos viestistäsi!\nTerveisin"),
                           Macro(title="Thanks", language="en", body="Thank you")])
        commit()
    html = client.get(f"/agent/tickets/{make_ticket(language='fi')}").get_data(as_text=True)
    assert 'data-body="Kiitos viestistäsi!\nTerveisin"' in html and "Thank you" not in html


def test_csrf_missing_on_reply_is_400(app, client, agent, make_ticket) -> None:
    ticket_id = make_ticket()
    r = client.post(f"/agent/tickets/{ticket_id}/reply", data={"version": "1", "body": "Hei"})
    assert r.status_code == 400
    assert outbox(app) == [] and get_ticket(app, ticket_id).version == 1


def test_unknown_ticket_is_404(client, agent) -> None:
    assert client.get("/agent/tickets/424242").status_code == 404
    assert client.get("/agent/tickets/424242/presence").status_code == 404


# ---------- the reply rules, without the web layer

@pytest.fixture
def rules(app, make_user, make_ticket):
    """(session, agent, ticket, sender address) inside an app context."""
    agent_id = make_user("liisa@tupa.example", name="Liisa")
    ticket_id = make_ticket()
    with app.test_request_context():  # the survey e-mail links to the public site
        db = session()
        yield db, db.get(User, agent_id), db.get(Ticket, ticket_id), "Tupa <asiakaspalvelu@tupa.example>"


@both_backends
def test_send_reply_refuses_a_stale_version(app, rules) -> None:
    db, agent, ticket, mail = rules
    now = utcnow()
    replies.send_reply(db, ticket, "Ensimmäinen", by=agent, now=now, expected_version=1, sender=mail)
    assert ticket.version == 2 and ticket.first_response_at == now
    with pytest.raises(replies.StaleTicket) as refused:
        replies.send_reply(db, ticket, "Toinen", by=agent, now=now, expected_version=1, sender=mail)
    assert refused.value.current == 2
    db.flush()
    assert db.scalar(select(func.count(TicketMessage.id))) == 1
    assert db.scalar(select(func.count(OutgoingMail.id))) == 1


def test_send_reply_rules(app, rules) -> None:
    db, agent, ticket, mail = rules
    now = utcnow()
    with pytest.raises(Exception) as empty:
        replies.send_reply(db, ticket, " \n ", by=agent, now=now, expected_version=1, sender=mail)
    assert getattr(empty.value, "field", None) == "body"
    with pytest.raises(Exception) as bad_status:
        replies.send_reply(db, ticket, "Hei", by=agent, now=now, expected_version=1, sender=mail,
                           status_after=TicketStatus.CLOSED)
    assert getattr(bad_status.value, "field", None) == "status_after"
    assert ticket.version == 1
    replies.send_reply(db, ticket, "Hei", by=agent, now=now, expected_version=1, sender=mail,
                       status_after=TicketStatus.SOLVED)
    assert ticket.status is TicketStatus.SOLVED and ticket.solved_at == now
    assert replies.handling_time(ticket) == now - ticket.created_at


@both_backends
def test_reply_and_its_mail_are_one_transaction(app, rules, backend: str) -> None:
    db, agent, ticket, mail = rules
    replies.send_reply(db, ticket, "Hei", by=agent, now=utcnow(), expected_version=1, sender=mail)
    db.rollback()
    assert db.get(Ticket, ticket.id).version == 1
    assert db.scalar(select(func.count(TicketMessage.id))) == 0
    assert db.scalar(select(func.count(OutgoingMail.id))) == 0
    reply = replies.send_reply(db, ticket, "Hei taas", by=agent, now=utcnow(), expected_version=1, sender=mail)
    db.commit()
    [queued] = db.scalars(select(OutgoingMail)).all()
    assert (queued.kind, queued.recipient, queued.body, queued.ticket_message_id) == (
        "reply", CUSTOMER, "Hei taas", reply.id)
    assert queued.in_reply_to is None  # a form inquiry: no customer mail to answer


def test_reply_to_an_email_ticket_threads_under_the_customers_message(app, make_user, make_ticket) -> None:
    from kb.models.shop import ChannelKind

    agent_id = make_user("liisa@tupa.example", name="Liisa")
    ticket_id = make_ticket(external_id="abc.123@mail.example.com", channel=ChannelKind.EMAIL)
    with app.test_request_context():
        db = session()
        replies.send_reply(db, db.get(Ticket, ticket_id), "Hei", by=db.get(User, agent_id), now=utcnow(),
                           expected_version=1, sender="Tupa <asiakaspalvelu@tupa.example>")
        commit()
    [mail] = outbox(app)
    assert mail["In-Reply-To"] == mail["References"] == "<abc.123@mail.example.com>"
    assert mail["Message-ID"].endswith("@tupa.example>")


def test_reply_subject_without_a_subject_uses_the_first_words(app, rules) -> None:
    _db, _agent, ticket, _mail = rules
    ticket.subject, ticket.body = "", "Paketti ei ole tullut perille vieläkään, mitä teen?"
    assert replies.reply_subject(ticket) == f"Re: Paketti ei ole tullut perille vieläkään, mitä teen? [{ticket.external_id}]"
    ticket.subject = "Re: vanha"
    assert replies.reply_subject(ticket).startswith("Re: vanha [")
