"""E-mail as a channel: real .eml and .mbox files through `neuvo import email`, and `neuvo mail poll`."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import commit, session
from kb.models import Attachment, ChannelKind, MessageKind, Ticket, TicketMessage, TicketStatus
from kb.services.inquiries.email_intake import html_to_text, parse_message
from kb.services.errors import InvalidInput
from tests.conftest import both_backends

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'

PLAIN = """\
From: Aino Virtanen <aino@example.com>
To: asiakaspalvelu@tupa.example
Subject: Missä tilaukseni on?
Date: Mon, 23 Nov 2026 10:15:00 +0200
Message-ID: <plain-1@mail.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 8bit

Hei,

tilasin viime viikolla pöytäliinan, mutta paketti ei ole vielä tullut. Tilausnumero 100123.

Terveisin
Aino
"""

HTML_ONLY = """\
From: "Erik Lind" <erik@example.se>
Subject: =?utf-8?q?Fr=C3=A5ga_om_retur?=
Date: Tue, 24 Nov 2026 08:00:00 +0000
Message-ID: <html-1@mail.example.se>
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"

<html><head><title>x</title><style>p {color: red}</style></head>
<body><p>Hej!</p><p>Hur returnerar jag en <b>matta</b>?</p>
<script>alert('x')</script><p>Tack &amp; hälsningar<br>Erik</p></body></html>
"""

REPLY = """\
From: Aino Virtanen <aino@example.com>
Subject: Re: Missä tilaukseni on?
Date: Tue, 24 Nov 2026 09:00:00 +0200
Message-ID: <reply-1@mail.example.com>
In-Reply-To: <plain-1@mail.example.com>
References: <plain-1@mail.example.com>
Content-Type: text/plain; charset="utf-8"

Paketti tuli jo, kiitos!

> tilasin viime viikolla pöytäliinan
"""


def _multipart(name: str, content_type: str, data: bytes, *, message_id: str) -> str:
    encoded = base64.encodebytes(data).decode()
    return f"""\
From: Maija Meikäläinen <maija@example.com>
Subject: Kuitti liitteenä
Date: Wed, 25 Nov 2026 12:00:00 +0200
Message-ID: <{message_id}>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset="utf-8"

Hei, liitteenä kuitti. Tuote tuli rikki.

--BOUNDARY
Content-Type: {content_type}; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64

{encoded}
--BOUNDARY--
"""


WITH_PDF = _multipart("kuitti.pdf", "application/pdf", PDF, message_id="pdf-1@mail.example.com")
WITH_SVG = _multipart("logo.png", "image/png", SVG, message_id="svg-1@mail.example.com")


def write(tmp_path: Path, name: str, *messages: str) -> str:
    path = tmp_path / name
    if name.endswith(".mbox"):
        path.write_bytes(b"".join(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + m.encode() + b"\n"
                                  for m in messages))
    else:
        path.write_bytes(messages[0].encode())
    return str(path)


def tickets(app) -> dict[str, Ticket]:
    with app.app_context():
        return {t.external_id: t for t in session().scalars(select(Ticket))}


# ---------- the parser

def test_plain_message() -> None:
    mail = parse_message(PLAIN.encode())
    assert (mail.message_id, mail.from_email, mail.from_name) == ("plain-1@mail.example.com", "aino@example.com",
                                                                  "Aino Virtanen")
    assert mail.subject == "Missä tilaukseni on?" and "paketti ei ole vielä tullut" in mail.body
    assert mail.sent_at.isoformat() == "2026-11-23T08:15:00+00:00"


def test_html_only_message_becomes_text_without_markup_or_script() -> None:
    mail = parse_message(HTML_ONLY.encode())
    assert mail.subject == "Fråga om retur"
    assert mail.body == "Hej!\n\nHur returnerar jag en matta?\n\nTack & hälsningar\nErik"
    assert "<" not in html_to_text("<p onclick='x'>a<img src=x onerror=alert(1)></p>")


def test_attachments_are_judged_by_their_bytes() -> None:
    pdf = parse_message(WITH_PDF.encode())
    assert [(a.filename, a.content_type, a.data) for a in pdf.attachments] == [("kuitti.pdf", "application/pdf", PDF)]
    svg = parse_message(WITH_SVG.encode())
    assert svg.attachments == [] and svg.refused and "logo.png" in svg.refused[0]


@pytest.mark.parametrize("raw,field", [
    (b"", "message"),
    (b"just some text without headers\n", "headers"),
    (b"From: nobody\nSubject: x\n\nbody\n", "From"),
    (b"From: a@example.com\nDate: yesterday-ish\nSubject: x\n\nbody\n", "Date"),
    (b"From: a@example.com\n\n", "body"),
])
def test_malformed_messages_are_refused(raw: bytes, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message(raw)
    assert caught.value.field == field


# ---------- neuvo import email

@both_backends
def test_import_creates_tickets_and_appends_replies(app, runner, tmp_path: Path) -> None:
    result = runner.invoke(args=["import", "email", write(tmp_path, "inbox.mbox", PLAIN, HTML_ONLY, WITH_PDF)])
    assert result.exit_code == 0, result.output
    assert "3 new tickets" in result.output
    found = tickets(app)
    assert set(found) == {"plain-1@mail.example.com", "html-1@mail.example.se", "pdf-1@mail.example.com"}
    plain = found["plain-1@mail.example.com"]
    assert (plain.channel, plain.language, plain.customer_email, plain.status) == (
        ChannelKind.EMAIL, "fi", "aino@example.com", TicketStatus.NEW)
    assert found["html-1@mail.example.se"].language == "sv"
    with app.app_context():
        [attachment] = session().scalars(select(Attachment)).all()
        assert attachment.filename == "kuitti.pdf" and attachment.data == PDF
        # solved meanwhile; the customer's reply reopens it
        session().get(Ticket, plain.id).status = TicketStatus.SOLVED
        commit()

    reply = runner.invoke(args=["import", "email", write(tmp_path, "reply.eml", REPLY)])
    assert reply.exit_code == 0 and "1 replies added" in reply.output, reply.output
    again = runner.invoke(args=["import", "email", write(tmp_path, "inbox.mbox", PLAIN, HTML_ONLY, WITH_PDF)])
    assert again.exit_code == 0 and "0 new tickets, 3 updated" in again.output
    runner.invoke(args=["import", "email", write(tmp_path, "reply.eml", REPLY)])  # the same reply twice
    with app.app_context():
        db = session()
        assert db.scalar(select(func.count(Ticket.id))) == 3
        ticket = db.get(Ticket, plain.id)
        assert ticket.status == TicketStatus.OPEN
        [message] = [m for m in ticket.messages if m.kind == MessageKind.CUSTOMER]
        # the reply's new words are its body; the thread it quoted is kept apart, the mail whole
        assert message.body == "Paketti tuli jo, kiitos!" and "> tilasin" in message.quoted
        assert message.original_body.startswith("Paketti tuli jo, kiitos!") and "> tilasin" in message.original_body
        assert db.scalar(select(func.count(Attachment.id))) == 1


def test_reference_in_the_subject_threads_the_reply(app, runner, tmp_path: Path) -> None:
    with app.app_context():
        session().add(Ticket(external_id="T-000042", channel=ChannelKind.FORM, language="fi",
                             subject="Palautus", body="Miten palautan?", customer_email="aino@example.com"))
        commit()
    raw = PLAIN.replace("Subject: Missä tilaukseni on?", "Subject: Re: We received your message [T-000042]")
    result = runner.invoke(args=["import", "email", write(tmp_path, "answer.eml", raw)])
    assert result.exit_code == 0 and "1 replies added" in result.output
    with app.app_context():
        ticket = session().scalar(select(Ticket).where(Ticket.external_id == "T-000042"))
        assert [m.kind for m in ticket.messages] == [MessageKind.CUSTOMER]


def test_refused_attachment_is_left_out_and_named(app, runner, tmp_path: Path) -> None:
    result = runner.invoke(args=["import", "email", write(tmp_path, "svg.eml", WITH_SVG)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert session().scalar(select(func.count(Attachment.id))) == 0
        assert "[attachment left out: logo.png" in ticket.body


def test_capitals_in_mail_flag_the_ticket(app, runner, tmp_path: Path) -> None:
    head, _, body = PLAIN.partition("\n\n")
    shouting = f"{head}\n\n{body.upper()}"
    runner.invoke(args=["import", "email", write(tmp_path, "caps.eml", shouting)])
    assert tickets(app)["plain-1@mail.example.com"].upset


@pytest.mark.parametrize("name,content,message", [
    ("broken.mbox", [PLAIN, "From: nobody\nSubject: x\n\nno sender\n"], "broken.mbox:2: field 'From'"),
    ("missing.eml", None, "missing.eml: no such file"),
    ("notes.txt", ["x"], "expected an .eml or .mbox file"),
])
def test_bad_files_change_nothing_and_exit_2(app, runner, tmp_path: Path, name: str, content, message: str) -> None:
    path = write(tmp_path, name, *content) if content else str(tmp_path / name)
    result = runner.invoke(args=["import", "email", path])
    assert result.exit_code == 2 and message in result.output, result.output
    with app.app_context():
        assert session().scalar(select(func.count(Ticket.id))) == 0
        assert session().scalar(select(func.count(TicketMessage.id))) == 0


# ---------- neuvo mail poll

def test_poll_without_imap_settings_explains_and_exits_2(runner) -> None:
    result = runner.invoke(args=["mail", "poll"])
    assert result.exit_code == 2 and "IMAP is not configured" in result.output
    assert "NEUVO_IMAP_HOST" in result.output
