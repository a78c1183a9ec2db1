"""Intake rules without HTTP: the response-time estimate, upset customers, attachments,
deflection counting and the "this solved it" token."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import (ArticleEvent, ArticleEventKind, Channel, ChannelKind, Ticket, TicketStatus)
from kb.services.inquiries import attachments, intake
from kb.services.errors import InvalidInput, NotFound
from kb.services.inquiries.response_time import (ResponseEstimate, add_working_time, estimate_from, expected_response,
                                       working_seconds)
from kb.services.inquiries.tickets import InquiryInput, upsert_inquiries
from kb.mailing.acknowledgements import expected_text
from tests.conftest import both_backends

HEL = ZoneInfo("Europe/Helsinki")
TZ = "Europe/Helsinki"
WEEKLY = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
STATED = "We reply within one working day"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=HEL)


# ---------- working hours and the estimate (Monday 2026-11-23 .. Sunday 2026-11-29)

def test_waiting_counts_only_opening_hours() -> None:
    # Friday 16:00 → Monday 10:00 is one hour on Friday and one on Monday
    assert working_seconds(at(2026, 11, 27, 16), at(2026, 11, 30, 10), WEEKLY, {}, TZ) == 2 * 3600
    assert working_seconds(at(2026, 11, 23, 10), at(2026, 11, 23, 10, 30), WEEKLY, {}, TZ) == 1800
    assert working_seconds(at(2026, 11, 28, 10), at(2026, 11, 29, 20), WEEKLY, {}, TZ) == 0  # weekend


def test_holidays_do_not_count() -> None:
    special = {date(2026, 12, 24): [], date(2026, 12, 25): []}
    # Wednesday 23.12. 16:00 → Monday 28.12. 10:00: 1 h + (24., 25. closed) + 1 h
    assert working_seconds(at(2026, 12, 23, 16), at(2026, 12, 28, 10), WEEKLY, special, TZ) == 2 * 3600
    assert add_working_time(at(2026, 12, 23, 16), 2 * 3600, WEEKLY, special, TZ) == at(2026, 12, 28, 10)


def _samples(*hours: float) -> list[tuple[datetime, datetime]]:
    """Tickets sent on Monday 2026-11-16 at 9.00, answered after ``hours`` working hours that day."""
    start = at(2026, 11, 16, 9)
    return [(start, start + timedelta(hours=h)) for h in hours]


def test_estimate_in_office_hours_is_the_median_in_working_hours() -> None:
    samples = _samples(1, 2, 2.5, 6, 7)
    # one more sent on Friday at 16.00 and answered on Monday at 10.00: two working hours
    samples.append((at(2026, 11, 20, 16), at(2026, 11, 23, 10)))
    estimate = estimate_from(samples, now=at(2026, 11, 24, 10), weekly=WEEKLY, special={}, timezone=TZ,
                             stated=STATED)
    assert estimate.samples == 6 and estimate.is_open
    assert estimate.working_hours == 3  # median 2.25 h, rounded up
    assert estimate.answer_by == at(2026, 11, 24, 12, 15)


def test_estimate_out_of_hours_counts_from_the_next_opening() -> None:
    estimate = estimate_from(_samples(1, 2, 2, 3, 4), now=at(2026, 11, 28, 12), weekly=WEEKLY, special={},
                             timezone=TZ, stated=STATED)
    assert not estimate.is_open and estimate.opens_at == at(2026, 11, 30, 9)
    assert estimate.working_hours == 2 and estimate.answer_by == at(2026, 11, 30, 11)


def test_fewer_than_five_samples_fall_back_to_the_stated_time() -> None:
    estimate = estimate_from(_samples(1, 1, 1, 1), now=at(2026, 11, 24, 10), weekly=WEEKLY, special={},
                             timezone=TZ, stated=STATED)
    assert estimate.working_hours is None and estimate.answer_by is None and estimate.stated == STATED


@both_backends
def test_expected_response_reads_recent_first_responses_of_the_channel(app) -> None:
    now = at(2026, 11, 24, 10)
    with app.app_context():
        db = session()
        db.add(Channel(kind=ChannelKind.FORM, hours=WEEKLY, response_times={"en": STATED}))
        for n, (created, answered) in enumerate(_samples(1, 1, 2, 3, 3)):
            db.add(Ticket(external_id=f"t{n}", channel=ChannelKind.FORM, language="fi", created_at=created,
                          first_response_at=answered))
        # other channels, unanswered tickets and tickets older than 30 days do not count
        db.add(Ticket(external_id="chat", channel=ChannelKind.CHAT, language="fi", created_at=at(2026, 11, 16, 9),
                      first_response_at=at(2026, 11, 16, 9, 1)))
        db.add(Ticket(external_id="open", channel=ChannelKind.FORM, language="fi", created_at=at(2026, 11, 16, 9)))
        db.add(Ticket(external_id="old", channel=ChannelKind.FORM, language="fi", created_at=at(2026, 9, 1, 9),
                      first_response_at=at(2026, 9, 1, 9, 1)))
        commit()
        estimate = expected_response(db, ChannelKind.FORM, now=now, timezone=TZ, language="en")
        assert estimate.samples == 5 and estimate.working_hours == 2
        assert estimate.answer_by == at(2026, 11, 24, 12)


@pytest.mark.parametrize("estimate,expected", [
    (ResponseEstimate(True, None, 2, at(2026, 11, 24, 12), STATED, 9),
     "Customer service is open now. We usually answer within about 2 working hours, by about Tuesday 12:00."),
    (ResponseEstimate(False, at(2026, 11, 30, 9), 2, at(2026, 11, 30, 11), STATED, 9),
     "Customer service is closed now. We open Monday 09:00 and answer by about Monday 11:00."),
    (ResponseEstimate(True, None, None, None, STATED, 2), f"Customer service is open now. {STATED}"),
    (ResponseEstimate(False, at(2026, 11, 30, 9), None, None, STATED, 2),
     f"Customer service is closed now; we open Monday 09:00. {STATED}"),
])
def test_wording_differs_in_and_out_of_office_hours(app, estimate: ResponseEstimate, expected: str) -> None:
    with app.test_request_context(), force_locale("en"):
        assert expected_text(estimate).replace("\u202f", " ") == expected


# ---------- upset customers

@pytest.mark.parametrize("text,upset", [
    ("MIKSI TILAUKSENI EI OLE VIELÄ PERILLÄ", True),
    ("Missä on tilaukseni?!?! Odotan vastausta!!!", True),
    ("Eikö kukaan vastaa?????", True),
    ("Hei, missä tilaukseni on? Kiitos!", False),
    ("OK THX", False),  # too few letters to judge
    ("Tilausnumero ABC-123 ja IKEA", False),
])
def test_looks_upset(text: str, upset: bool) -> None:
    assert intake.looks_upset(text) is upset


@both_backends
def test_flooding_flags_the_third_inquiry_within_half_an_hour(app) -> None:
    now = utcnow()
    with app.app_context():
        db = session()
        items = [InquiryInput(id=f"f{n}", created_at=now + timedelta(minutes=10 * n), channel="chat",
                              subject="", body="Hei, missä paketti on?", email="Flood@example.com")
                 for n in range(3)]
        items.append(InquiryInput(id="later", created_at=now + timedelta(hours=3), channel="chat", subject="",
                                  body="Hei, kiitos paketista", email="flood@example.com"))
        items.append(InquiryInput(id="caps", created_at=now, channel="email", subject="",
                                  body="MISSÄ ON RAHANI, PALAUTIN TUOTTEEN JO", email="caps@example.com"))
        upsert_inquiries(db, items, now=now)
        commit()
        flags = dict(db.execute(select(Ticket.external_id, Ticket.upset)).all())
    assert flags == {"f0": False, "f1": False, "f2": True, "later": False, "caps": True}


# ---------- attachments

@pytest.mark.parametrize("data,kind", [
    (b"\xff\xd8\xff\xe0" + b"0" * 20, "image/jpeg"), (PNG, "image/png"), (b"GIF89a" + b"0" * 10, "image/gif"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"), (b"%PDF-1.7\n", "application/pdf"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None), (b"<!doctype html><p>x", None), (b"MZ\x90\x00", None),
])
def test_type_comes_from_the_bytes(data: bytes, kind: str | None) -> None:
    assert attachments.sniff_type(data) == kind


def test_attachment_names_get_the_real_type_and_no_folders() -> None:
    [file] = attachments.check_attachments([("../../etc/kuva.html", PNG)])
    assert file.filename == "kuva.html.png" and file.content_type == "image/png"
    assert attachments.check_attachments([("kuitti.PDF", b"%PDF-1.4")])[0].filename == "kuitti.PDF"


@pytest.mark.parametrize("files,reason", [
    ([("a.png", PNG)] * 4, "too_many"),
    ([("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024))], "too_big"),
    ([("logo.png", b"<svg onload=alert(1)>")], "type"),
    ([("empty.png", b"")], "empty"),
])
def test_refused_attachments(files: list, reason: str) -> None:
    with pytest.raises(attachments.AttachmentRefused) as caught:
        attachments.check_attachments(files)
    assert caught.value.reason == reason and caught.value.field == "attachments"


# ---------- deflection

@both_backends
def test_deflection_counts_openings_not_followed_by_an_inquiry(app, create_article) -> None:
    article_id = create_article()
    start = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    with app.app_context():
        db = session()
        ticket = Ticket(external_id="T-1", channel=ChannelKind.FORM, language="fi", created_at=start)
        db.add(ticket)
        db.flush()
        events = [  # (visitor, hours after start, claimed by a ticket)
            ("reader", 0, None), ("reader", 1, None), ("writer", 0, ticket.id), ("other", 2, None),
            ("recent", 30, None),
        ]
        for visitor, hours, ticket_id in events:
            db.add(ArticleEvent(article_id=article_id, kind=ArticleEventKind.OPENED, visitor=visitor,
                                ticket_id=ticket_id, created_at=start + timedelta(hours=hours)))
        commit()
        counts = intake.deflection_counts(db, start, start + timedelta(hours=40))
    assert (counts.opened, counts.deflected, counts.pending, counts.visitors) == (5, 3, 1, 2)
    assert counts.by_article == {"toimitusajat": 3}


@both_backends
def test_sending_the_form_claims_the_visitors_recent_openings(app, create_article) -> None:
    create_article()
    now = utcnow()
    with app.app_context():
        db = session()
        intake.record_opened(db, "toimitusajat", visitor="v1", now=now - timedelta(hours=2))
        intake.record_opened(db, "toimitusajat", visitor="v1", now=now - timedelta(hours=30))  # too long ago
        intake.record_opened(db, "toimitusajat", visitor="v2", now=now - timedelta(hours=1))
        ticket = intake.submit_inquiry(db, intake.ContactInput(
            inquiry_type="delivery", name="Aino", email="aino@example.com", subject="Toimitus",
            message="Kauanko toimitus kestää?", ui_language="fi", visitor="v1"), matcher=None, now=now)
        commit()
        claimed = db.scalars(select(ArticleEvent.visitor).where(ArticleEvent.ticket_id == ticket.id)).all()
        with pytest.raises(NotFound):
            intake.record_opened(db, "no-such-article", visitor="v1", now=now)
    assert claimed == ["v1"]
    assert ticket.external_id == f"T-{ticket.id:06d}" and ticket.channel == ChannelKind.FORM


# ---------- "this solved it"

def test_solved_token_is_signed() -> None:
    token = intake.solved_token("secret", 12, 34)
    assert intake.read_solved_token("secret", token) == (12, 34)
    for bad in (token[:-2] + "xx", intake.solved_token("other secret", 12, 34), "x" * 300, ""):
        with pytest.raises(NotFound):
            intake.read_solved_token("secret", bad)


@both_backends
def test_solve_by_article_closes_once(app, create_article) -> None:
    article_id = create_article()
    now = utcnow()
    with app.app_context():
        db = session()
        ticket = Ticket(external_id="T-9", channel=ChannelKind.FORM, language="fi", created_at=now)
        db.add(ticket)
        commit()
        intake.solve_by_article(db, ticket.id, article_id, visitor="v", now=now)
        commit()
        with pytest.raises(intake.AlreadySolved):
            intake.solve_by_article(db, ticket.id, article_id, visitor="v", now=now)
        # reopened by an agent: the used link still does not close it again
        ticket.status = TicketStatus.OPEN
        commit()
        with pytest.raises(intake.AlreadySolved):
            intake.solvable(db, ticket.id, article_id, now=now)
        with pytest.raises(NotFound):  # links stop working a month after the inquiry
            intake.solvable(db, ticket.id, article_id, now=now + timedelta(days=31))
        events = db.scalars(select(ArticleEvent).where(ArticleEvent.kind == ArticleEventKind.SOLVED)).all()
    assert len(events) == 1 and events[0].ticket_id == ticket.id


def test_order_number_must_be_the_customers(app, create_order) -> None:
    number = create_order("aino@example.com")
    with app.app_context():
        intake.check_order_number(session(), number, email="AINO@example.com")
        with pytest.raises(InvalidInput):
            intake.check_order_number(session(), number, email="eero@example.com")


@pytest.mark.parametrize("text,change", [
    ("Voinko muuttaa tilaustani?", True), ("Haluan perua tilauksen", True), ("Kan jag ändra min order?", True),
    ("I want to cancel my order", True), ("Missä pakettini on?", False), ("Palautus ohjeet", False),
])
def test_change_questions_are_recognised(text: str, change: bool) -> None:
    assert intake.asks_about_change(text) is change

