"""Every e-mail path stores the split: `neuvo import email` and the IMAP poller keep the customer's new words
as the ticket's text with the quoted thread and signature apart and the mail whole; `neuvo mail parse`
prints the split of files and stores nothing; `neuvo mail reparse` splits older tickets once; the agent and
the customer see the new text first with the quote folded away. Every text here is written for these tests."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from kb.db import commit, session, utcnow
from kb.jobs import receive_mails
from kb.models import ChannelKind, MessageKind, Ticket, TicketMessage
from kb.services.inquiries.email_intake import parse_message
from tests.support.auth_helpers import customer_factory, log_in
from tests.conftest import both_backends, translated

NEW_FI = "Hei,\n\nPöytäliina tuli, mutta se on väärän värinen. Voinko vaihtaa sen siniseen?"
QUOTED_FI = ("ma 4.11.2024 klo 9.05 Tupa asiakaspalvelu <\nasiakaspalvelu@tupa.example> kirjoitti:\n"
             "> Kiitos tilauksestasi! Pöytäliina lähtee tänään.")
SIGNATURE_FI = "Ystävällisin terveisin\nAino Virtanen"
NEW_SV = "Hej!\n\nKan jag få fakturan per e-post i stället?"


def eml(body: str, *, message_id: str = "r-1@mail.example.com", subject: str = "Re: Tilauksesi",
        sender: str = "Aino Virtanen <aino@example.com>", extra: str = "") -> str:
    return (f"From: {sender}\nTo: asiakaspalvelu@tupa.example\nSubject: {subject}\n"
            f"Date: Mon, 04 Nov 2024 10:00:00 +0200\nMessage-ID: <{message_id}>\n{extra}"
            f"Content-Type: text/plain; charset=\"utf-8\"\n\n{body}\n")


def reply_fi() -> str:
    return eml(f"{NEW_FI}\n\n{SIGNATURE_FI}\n\n{QUOTED_FI}")


def mbox(*messages: str) -> str:
    return "".join(f"From MAILER-DAEMON Mon Nov  4 10:00:00 2024\n{m}\n" for m in messages)


# ---------- neuvo mail parse

def test_parse_prints_one_object_per_message_in_order(runner, tmp_path: Path) -> None:
    first = tmp_path / "vastaus.eml"
    first.write_text(reply_fi(), encoding="utf-8")
    box = tmp_path / "laatikko.mbox"
    box.write_text(mbox(eml(NEW_SV, message_id="s-1@x", subject="Faktura", sender="Eva <eva@example.se>"),
                        eml("Asiakaspalvelu kirjoitti:\n> Kiitos viestistäsi.", message_id="q-1@x")),
                   encoding="utf-8")
    result = runner.invoke(args=["mail", "parse", str(first), str(box), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [list(r) for r in rows] == [["file", "subject", "from", "language", "text", "quoted", "signature"]] * 3
    assert [r["file"] for r in rows] == [str(first), str(box), str(box)]
    assert rows[0]["text"] == NEW_FI and rows[0]["signature"] == SIGNATURE_FI
    assert "Kiitos tilauksestasi" in rows[0]["quoted"] and rows[0]["language"] == "fi"
    assert rows[0]["subject"] == "Re: Tilauksesi" and "aino@example.com" in rows[0]["from"]
    assert (rows[1]["text"], rows[1]["language"], rows[1]["subject"]) == (NEW_SV, "sv", "Faktura")
    assert rows[2]["text"] == "" and "Kiitos viestistäsi" in rows[2]["quoted"]


def test_parse_changes_nothing_in_the_database(app, runner, tmp_path: Path) -> None:
    path = tmp_path / "vastaus.eml"
    path.write_text(reply_fi(), encoding="utf-8")
    assert runner.invoke(args=["mail", "parse", str(path), "--json"]).exit_code == 0
    with app.app_context():
        assert session().scalar(select(func.count(Ticket.id))) == 0


def test_parse_names_a_file_it_cannot_read_and_exits_2(runner, tmp_path: Path) -> None:
    good = tmp_path / "vastaus.eml"
    good.write_text(reply_fi(), encoding="utf-8")
    missing = tmp_path / "puuttuu.eml"
    result = runner.invoke(args=["mail", "parse", str(good), str(missing), "--json"])
    assert result.exit_code == 2
    assert str(missing) in result.output and "no such file" in result.output
    assert "{" not in result.output  # all or nothing: no half of the answer
    other = tmp_path / "muistio.txt"
    other.write_text("ei sähköpostia", encoding="utf-8")
    result = runner.invoke(args=["mail", "parse", str(other)])
    assert result.exit_code == 2 and str(other) in result.output


# ---------- storing: neuvo import email and the IMAP poller's path

@both_backends
def test_import_email_stores_the_new_text_the_quote_the_signature_and_the_whole_mail(app, runner,
                                                                                      tmp_path: Path) -> None:
    path = tmp_path / "vastaus.eml"
    path.write_text(reply_fi(), encoding="utf-8")
    assert runner.invoke(args=["import", "email", str(path)]).exit_code == 0
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert ticket.body == NEW_FI
        assert ticket.signature == SIGNATURE_FI
        assert "> Kiitos tilauksestasi" in ticket.quoted and "kirjoitti:" in ticket.quoted
        assert ticket.original_body.startswith(NEW_FI) and ticket.original_body.endswith("lähtee tänään.")
        assert "Kiitos tilauksestasi" not in ticket.text  # what the suggester reads


def test_a_reply_through_the_pollers_path_is_stored_split(app) -> None:
    with app.app_context():
        receive_mails([parse_message(eml(NEW_SV, message_id="s-1@x", subject="Faktura").encode())])
        commit()
        answer = (f"Tack, det går bra.\n\nSkickat från min iPhone\n\nDen 4 nov. 2024 kl. 10:05 skrev Tupa "
                  f"<kundtjanst@tupa.example>:\n> Vi kan skicka fakturan per e-post.")
        receive_mails([parse_message(eml(answer, message_id="s-2@x", subject="Re: Faktura",
                                         extra="In-Reply-To: <s-1@x>\n").encode())])
        commit()
        ticket = session().scalar(select(Ticket))
        [reply] = [m for m in ticket.messages if m.kind is MessageKind.CUSTOMER]
        assert (reply.body, reply.signature) == ("Tack, det går bra.", "Skickat från min iPhone")
        assert "Vi kan skicka fakturan" in reply.quoted and reply.original_body.startswith("Tack, det går bra.")


def test_neuvo_mail_poll_stores_the_split(app, runner, monkeypatch) -> None:
    """The real command, with only the IMAP connection replaced by a mailbox holding one reply."""
    import kb.services.inquiries.imap_mailbox as imap_mailbox

    seen: list[bytes] = []

    class OneMessageMailbox:
        def __init__(self, config) -> None:
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def unseen(self, limit: int = 200) -> list[tuple[bytes, bytes]]:
            return [(b"7", reply_fi().encode())]

        def mark_seen(self, uids) -> None:
            seen.extend(uids)

    monkeypatch.setattr(imap_mailbox, "Mailbox", OneMessageMailbox)
    app.config.update(IMAP_HOST="imap.tupa.example", IMAP_USERNAME="tuki", IMAP_PASSWORD="salainen",
                      EMAIL_ACKNOWLEDGEMENT=False)
    result = runner.invoke(args=["mail", "poll"])
    assert result.exit_code == 0 and "1 new tickets" in result.output, result.output
    assert seen == [b"7"]
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert (ticket.body, ticket.signature) == (NEW_FI, SIGNATURE_FI)
        assert "Kiitos tilauksestasi" in ticket.quoted and "Kiitos tilauksestasi" in ticket.original_body


def test_email_inquiries_imported_from_a_file_are_split_too(app, runner, tmp_path: Path) -> None:
    path = tmp_path / "inquiries.jsonl"
    rows = [{"id": "S-1", "created_at": "2024-11-04T10:00:00", "channel": "email", "subject": "Re: Tilauksesi",
             "body": f"{NEW_FI}\n\n{SIGNATURE_FI}\n\n{QUOTED_FI}"},
            {"id": "S-2", "created_at": "2024-11-04T10:00:00", "channel": "chat", "subject": "",
             "body": "Onko > 3 kpl alennus voimassa?\n> lainaus"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert runner.invoke(args=["import", "inquiries", str(path)]).exit_code == 0
    with app.app_context():
        mail = session().scalar(select(Ticket).where(Ticket.external_id == "S-1"))
        chat = session().scalar(select(Ticket).where(Ticket.external_id == "S-2"))
        assert (mail.body, mail.signature, mail.quoted) == (NEW_FI, SIGNATURE_FI, QUOTED_FI)
        assert chat.body == rows[1]["body"] and chat.original_body == "" and chat.quoted == ""


def test_erasing_the_person_masks_the_whole_mail_the_quote_and_the_signature(app, runner, tmp_path: Path) -> None:
    path = tmp_path / "vastaus.eml"
    path.write_text(eml(f"{NEW_FI}\n\n{SIGNATURE_FI}\n040 123 4567\n\n"
                        "ma 4.11.2024 klo 9.05 Tupa <asiakaspalvelu@tupa.example> kirjoitti:\n"
                        "> Hei Aino Virtanen, vastaamme osoitteeseen aino@example.com."), encoding="utf-8")
    runner.invoke(args=["import", "email", str(path)])
    assert runner.invoke(args=["privacy", "erase", "aino@example.com", "--yes"]).exit_code == 0
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        for text in (ticket.original_body, ticket.quoted, ticket.signature):
            assert "Virtanen" not in text and "aino@example.com" not in text and "040 123 4567" not in text


# ---------- neuvo mail reparse

def test_reparse_splits_older_mail_once(app, runner) -> None:
    whole = f"{NEW_FI}\n\n{SIGNATURE_FI}\n\n{QUOTED_FI}"
    with app.app_context():
        ticket = Ticket(external_id="old-1@mail.example.com", channel=ChannelKind.EMAIL, subject="Re: Tilauksesi",
                        body=whole, language="fi", customer_email="aino@example.com")
        ticket.messages.append(TicketMessage(kind=MessageKind.CUSTOMER, created_at=utcnow(),
                                             body=f"Asiakaspalvelu kirjoitti:\n> Mikä väri?\n\nSininen.\n\n"
                                                  "[attachment left out: kuva.svg: not an allowed type]"))
        form = Ticket(external_id="T-000777", channel=ChannelKind.FORM, subject="Lomake", language="fi",
                      body="Kysymys\n> lainaus lomakkeessa")
        session().add_all([ticket, form])
        commit()
    first = runner.invoke(args=["mail", "reparse"])
    assert first.exit_code == 0 and "Split 1 tickets and 1 replies" in first.output, first.output
    with app.app_context():
        ticket = session().scalar(select(Ticket).where(Ticket.external_id == "old-1@mail.example.com"))
        [message] = ticket.messages
        state = (ticket.body, ticket.quoted, ticket.signature, ticket.original_body,
                 message.body, message.quoted, message.original_body)
        assert state[:4] == (NEW_FI, QUOTED_FI, SIGNATURE_FI, whole)
        assert message.body == "Sininen.\n\n[attachment left out: kuva.svg: not an allowed type]"
        assert "Mikä väri?" in message.quoted and "[attachment" not in message.original_body
        assert session().scalar(select(Ticket.body).where(Ticket.external_id == "T-000777")).endswith("lomakkeessa")
    again = runner.invoke(args=["mail", "reparse"])
    assert again.exit_code == 0 and "Split 0 tickets and 0 replies" in again.output
    with app.app_context():
        ticket = session().scalar(select(Ticket).where(Ticket.external_id == "old-1@mail.example.com"))
        [message] = ticket.messages
        assert (ticket.body, ticket.quoted, ticket.signature, ticket.original_body,
                message.body, message.quoted, message.original_body) == state


# ---------- what people see

def test_the_agent_sees_the_new_text_first_and_the_quote_folded(app, client, agent, runner, tmp_path: Path) -> None:
    path = tmp_path / "vastaus.eml"
    path.write_text(reply_fi(), encoding="utf-8")
    runner.invoke(args=["import", "email", str(path)])
    with app.app_context():
        ticket_id = session().scalar(select(Ticket.id))
    page = client.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    conversation = page.split('id="conversation"', 1)[1].split("</section>", 1)[0]
    assert conversation.index("Voinko vaihtaa sen siniseen?") < conversation.index("<details class=\"mail-quote\">")
    assert conversation.index("<details class=\"mail-quote\">") < conversation.index("Kiitos tilauksestasi")
    assert "<details class=\"mail-quote\" open" not in conversation
    assert "Show quoted message" in conversation
    assert '<p class="small muted mail-signature">Ystävällisin terveisin · Aino Virtanen</p>' in conversation


def test_a_mail_that_only_quotes_says_so_to_the_customer(app, runner, tmp_path: Path) -> None:
    customer_factory(app)("aino@example.com")
    path = tmp_path / "lainaus.eml"
    path.write_text(eml(QUOTED_FI, subject="Re: Tilauksesi"), encoding="utf-8")
    runner.invoke(args=["import", "email", str(path)])
    with app.app_context():
        ticket = session().scalar(select(Ticket))
        assert ticket.body == "" and "Kiitos tilauksestasi" in ticket.quoted
        reference = f"T-{ticket.id:06d}"
        ticket.sender_confirmed_at = utcnow()  # she opened the link in the acknowledgement: the mail is hers
        commit()
    client = app.test_client()
    log_in(client, "aino@example.com")
    page = client.get(f"/tili/yhteydenotot/{reference}").get_data(as_text=True)
    assert translated(app, "No new text: this message only quotes earlier mail.", "fi") in page
    assert translated(app, "Show quoted message", "fi") == "Näytä lainattu viesti"
    assert "Näytä lainattu viesti" in page and "Kiitos tilauksestasi" in page
