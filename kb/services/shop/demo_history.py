"""Three weeks of service history for the demo shop, so every page has something true to show.

The demo inquiries arrive without answers; here the demo agent answers most of
them within office hours, solves the older ones, some customers answer the
survey, and visitors search the help center (through the real index, so
result counts are what search finds today). Deterministic for a given ``now``.
"""
from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.models import (ArticleEvent, ArticleEventKind, MessageKind, Role, SearchLog, SurveyResponse, Ticket,
                       TicketMessage, TicketStatus, User)
from search import IndexUnavailable, SearchIndex

REPLIES = {
    "fi": "Hei,\n\nkiitos viestistäsi! {answer}\n\nYstävällisin terveisin\nTupan asiakaspalvelu",
    "sv": "Hej,\n\ntack för ditt meddelande! {answer}\n\nMed vänliga hälsningar\nTupas kundtjänst",
    "en": "Hello,\n\nthank you for your message! {answer}\n\nBest regards\nTupa customer service",
}
ANSWERS = {
    "fi": "Tarkistimme asian ja hoidamme sen kuntoon. Lisätietoa löydät myös ohjeistamme.",
    "sv": "Vi har kontrollerat saken och ordnar det. Mer information finns i våra anvisningar.",
    "en": "We have checked this and will sort it out. You can also find more in our help center.",
}
SEARCHES = [
    ("fi", "toimitusaika"), ("fi", "palautus"), ("fi", "palautusoikeus"), ("fi", "tilauksen muuttaminen"),
    ("fi", "lasku"), ("fi", "maksutavat"), ("fi", "klarna"), ("fi", "seuranta"), ("fi", "takuu"),
    ("fi", "kuljetusvaurio"), ("fi", "toimituskulut"), ("fi", "peruuttaa tilaus"), ("fi", "lahjakortti"),
    ("fi", "salasana unohtui"), ("fi", "matto koko"), ("fi", "pellavan pesu"), ("fi", "valurauta"),
    ("fi", "lahjapaketointi"), ("fi", "nouto varastolta"), ("fi", "ahvenanmaa"), ("fi", "kokoamispalvelu"),
    ("fi", "hyvitys alennus"), ("sv", "returnera"), ("sv", "leveranstid"), ("sv", "faktura"),
    ("sv", "presentinslagning"), ("sv", "åland"), ("en", "refund"), ("en", "delivery time"),
    ("en", "gift wrapping"), ("en", "track order"),
]


def _rng(*parts: object) -> random.Random:
    seed = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return random.Random(int(seed[:16], 16))  # nosec B311 # repeatable demo data, not a secret


def _office_time(at: datetime, zone: ZoneInfo) -> datetime:
    """The first moment at or after ``at`` within Mon-Fri 9-17 in the shop's zone."""
    local = at.astimezone(zone)
    while local.weekday() >= 5 or local.hour >= 17 or local.hour < 9:
        if local.hour >= 17 or local.weekday() >= 5:
            local = (local + timedelta(days=1)).replace(hour=9, minute=0)
        else:
            local = local.replace(hour=9, minute=0)
    return local


def answer_history(session: Session, *, now: datetime, timezone: str = "Europe/Helsinki") -> int:
    """Replies, solutions and survey answers for the demo inquiries; returns how many were answered."""
    zone = ZoneInfo(timezone)
    agent = session.scalar(select(User).where(User.role == Role.AGENT).order_by(User.id))
    answered = 0
    for ticket in session.scalars(select(Ticket).order_by(Ticket.id)):
        rng = _rng("reply", ticket.external_id)
        start = _office_time(ticket.created_at, zone) + timedelta(minutes=rng.randint(8, 240))
        if start >= now - timedelta(hours=1) or rng.random() < 0.08:
            continue  # the newest and a few others wait for an answer
        language = ticket.language if ticket.language in REPLIES else "fi"
        ticket.messages.append(TicketMessage(kind=MessageKind.REPLY, author_id=agent.id if agent else None,
                                             created_at=start,
                                             body=REPLIES[language].format(answer=ANSWERS[language])))
        ticket.first_response_at, ticket.assignee_id = start, agent.id if agent else None
        ticket.version += 1
        answered += 1
        solved = start + timedelta(hours=rng.uniform(0.2, 30))
        if solved < now - timedelta(hours=6) and rng.random() < 0.85:
            ticket.status, ticket.solved_at = TicketStatus.SOLVED, solved
            if rng.random() < 0.45:
                session.add(SurveyResponse(
                    ticket_id=ticket.id, token_hash=hashlib.sha256(f"demo-{ticket.id}".encode()).hexdigest(),
                    sent_at=solved, answered_at=solved + timedelta(hours=rng.uniform(1, 20)),
                    csat=rng.choices([5, 4, 3, 2, 1], weights=[50, 30, 10, 6, 4])[0],
                    ces=rng.choices([7, 6, 5, 4, 3, 2], weights=[35, 30, 15, 10, 6, 4])[0]))
        else:
            ticket.status = TicketStatus.WAITING if rng.random() < 0.6 else TicketStatus.OPEN
        for link in ticket.links:
            session.add(ArticleEvent(article_id=link.article_id, kind=ArticleEventKind.INSERTED,
                                     ticket_id=ticket.id, created_at=start))
    session.flush()
    return answered


def search_history(session: Session, search_index: SearchIndex, *, now: datetime) -> int:
    """Visitors' searches over three weeks, counted by the real index; some open a result."""
    rng = _rng("search", now.date())
    ticket_ids = list(session.scalars(select(Ticket.id).order_by(Ticket.id)))
    logged = 0
    for day in range(21):
        for _ in range(rng.randint(4, 11)):
            language, query = rng.choice(SEARCHES)
            at = now - timedelta(days=day, hours=rng.uniform(0, 23))
            try:
                results = search_index.search(query, language=language, per_page=5)
            except IndexUnavailable:
                return logged
            visitor = f"demo-{day}-{rng.randint(1, 40)}"
            clicked = None
            if results.results and rng.random() < 0.7:
                clicked = results.results[0].id
                # half of those who open an article still write to customer service (the ticket is linked)
                contacted = rng.choice(ticket_ids) if ticket_ids and rng.random() < 0.5 else None
                session.add(ArticleEvent(article_id=clicked, kind=ArticleEventKind.OPENED, visitor=visitor,
                                         ticket_id=contacted, created_at=at))
            session.add(SearchLog(query=query, language=language, result_count=results.total,
                                  clicked_article_id=clicked, visitor=visitor, created_at=at))
            logged += 1
    session.flush()
    return logged
