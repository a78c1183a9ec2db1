"""Helpers shared by the agent tests (tests/inquiries/test_agent.py, tests/inquiries/test_agent_replies.py); their
fixtures (make_user, make_ticket, agent, articles) are in tests/conftest.py."""
from __future__ import annotations

from kb.db import commit, session
from kb.models import Ticket, TicketSuggestion
from tests.support.auth_helpers import PASSWORD, sign_in  # noqa: F401  (re-exported for the agent tests)
from tests.fixtures.mail_helpers import sent_mail as outbox  # noqa: F401


CUSTOMER = "aino@example.com"


def page_part(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def get_ticket(app, ticket_id: int) -> Ticket:
    with app.app_context():
        return session().get(Ticket, ticket_id)


def suggest(app, ticket_id: int, *pairs: tuple[int, float]) -> None:
    with app.app_context():
        for rank, (article_id, score) in enumerate(pairs, 1):
            session().add(TicketSuggestion(ticket_id=ticket_id, article_id=article_id, rank=rank, score=score))
        commit()
