"""The agent inbox: filtered and counted ticket lists, assignment, presence and customer context.

Every channel lands in one ``tickets`` table; an inbox view is a set of
conditions on it. Presence is advisory (who has the ticket open), the
stale-reply guard in :mod:`kb.services.inquiries.replies` is what actually refuses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from kb.models import (Article, ArticleEvent, ArticleEventKind, ArticleStatus, ChannelKind, Order, Return, Role,
                       Ticket, TicketMessage, TicketStatus, TicketSuggestion, TicketViewer, User)
from kb.services.orders import rules as order_rules
from kb.services.helpcenter.articles import translations_of
from kb.services.errors import InvalidInput
from kb.services.helpcenter.article_render import article_excerpt
from kb.services.orders.returns import customer_returns

INQUIRY_TYPES = ("order", "delivery", "payment", "return", "warranty", "product", "other")
CHANNELS = tuple(c.value for c in ChannelKind)
STATUSES = tuple(s.value for s in TicketStatus)
ACTIVE = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)
#: The sidebar views, in display order.
VIEWS = ("active", "new", "open", "waiting", "mine", "unassigned", "upset", "solved", "closed", "all")
SORTS = ("waiting", "newest")
ASSIGNEES = ("me", "unassigned")
PRESENCE_WINDOW = timedelta(minutes=2)
EXCERPT_CHARS = 200
AGENT_ROLES = (Role.AGENT, Role.ADMIN)


@dataclass(frozen=True)
class InboxQuery:
    """What the inbox shows: a named view narrowed by filters, one page of it."""

    view: str = "active"
    status: str = ""
    channel: str = ""
    inquiry_type: str = ""
    language: str = ""
    assignee: str = ""      # "me", "unassigned" or "" (anyone)
    sort: str = "waiting"   # oldest waiting first, or newest first
    page: int = 1

    @classmethod
    def parse(cls, args: dict[str, str]) -> InboxQuery:
        """Read query-string values, dropping anything unknown (never an error for a URL)."""
        def pick(name: str, allowed: tuple[str, ...], default: str = "") -> str:
            value = (args.get(name) or "").strip()
            return value if value in allowed else default

        try:
            page = max(1, min(10_000, int(args.get("page") or 1)))
        except ValueError:
            page = 1
        status = pick("status", STATUSES)
        # a status filter alone means "tickets in that status", not "active ones in that status"
        return cls(view=pick("view", VIEWS, "all" if status else "active"), status=status,
                   channel=pick("channel", CHANNELS), inquiry_type=pick("type", INQUIRY_TYPES),
                   language=pick("language", ("fi", "sv", "en")), assignee=pick("assignee", ASSIGNEES),
                   sort=pick("sort", SORTS, "waiting"), page=page)

    def args(self, **changes: str | int) -> dict[str, str | int]:
        """Query-string values for a link to this query with ``changes`` (defaults left out)."""
        values: dict[str, str | int] = {"view": self.view, "status": self.status, "channel": self.channel,
                                        "type": self.inquiry_type, "language": self.language,
                                        "assignee": self.assignee, "sort": self.sort, "page": self.page}
        values.update(changes)
        defaults = {"view": "active", "sort": "waiting", "page": 1}
        return {k: v for k, v in values.items() if v and defaults.get(k) != v}


@dataclass
class InboxPage:
    tickets: list[Ticket]
    total: int
    page: int
    per_page: int
    assignees: dict[int, User] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.per_page - 1) // self.per_page)


def _view_condition(view: str, *, user_id: int) -> ColumnElement[bool] | None:
    active = Ticket.status.in_(ACTIVE)
    return {
        "active": active,
        "new": Ticket.status == TicketStatus.NEW,
        "open": Ticket.status == TicketStatus.OPEN,
        "waiting": Ticket.status == TicketStatus.WAITING,
        "mine": and_(active, Ticket.assignee_id == user_id),
        "unassigned": and_(active, Ticket.assignee_id.is_(None)),
        "upset": and_(active, Ticket.upset.is_(True)),
        "solved": Ticket.status == TicketStatus.SOLVED,
        "closed": Ticket.status == TicketStatus.CLOSED,
    }.get(view)


def _conditions(query: InboxQuery, *, user_id: int) -> list[ColumnElement[bool]]:
    conditions = []
    view = _view_condition(query.view, user_id=user_id)
    if view is not None:
        conditions.append(view)
    if query.status:
        conditions.append(Ticket.status == TicketStatus(query.status))
    if query.channel:
        conditions.append(Ticket.channel == ChannelKind(query.channel))
    if query.inquiry_type:
        conditions.append(Ticket.inquiry_type == query.inquiry_type)
    if query.language:
        conditions.append(Ticket.language == query.language)
    if query.assignee == "me":
        conditions.append(Ticket.assignee_id == user_id)
    elif query.assignee == "unassigned":
        conditions.append(Ticket.assignee_id.is_(None))
    return conditions


def list_tickets(session: Session, query: InboxQuery, *, user_id: int, per_page: int = 25) -> InboxPage:
    """One page of the inbox; upset tickets are marked, not reordered (the sort is the agent's choice)."""
    conditions = _conditions(query, user_id=user_id)
    total = session.scalar(select(func.count(Ticket.id)).where(*conditions)) or 0
    order = ((Ticket.created_at.asc(), Ticket.id.asc()) if query.sort == "waiting"
             else (Ticket.created_at.desc(), Ticket.id.desc()))
    tickets = list(session.scalars(select(Ticket).where(*conditions).order_by(*order)
                                   .offset((query.page - 1) * per_page).limit(per_page)))
    assignees = users_by_id(session, {t.assignee_id for t in tickets if t.assignee_id})
    return InboxPage(tickets, total, query.page, per_page, assignees)


def view_counts(session: Session, *, user_id: int) -> dict[str, int]:
    """How many tickets each sidebar view holds (one grouped query for the status views)."""
    by_status = dict(session.execute(select(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status)).all())
    counts = {status.value: by_status.get(status, 0) for status in TicketStatus}
    counts["active"] = sum(by_status.get(s, 0) for s in ACTIVE)
    counts["all"] = sum(by_status.values())
    for view in ("mine", "unassigned", "upset"):
        counts[view] = session.scalar(select(func.count(Ticket.id))
                                      .where(_view_condition(view, user_id=user_id))) or 0
    return counts


def colleagues(session: Session) -> list[User]:
    """Everyone a ticket can be assigned to: active agents and admins."""
    return list(session.scalars(select(User).where(User.role.in_(AGENT_ROLES), User.is_active.is_(True))
                                .order_by(User.name, User.email)))


def take(session: Session, ticket: Ticket, *, by: User, now: datetime) -> None:
    """Assign the ticket to ``by``; a new ticket becomes open (a status change bumps the version)."""
    assign(session, ticket, by.id, by=by, now=now)


def assign(session: Session, ticket: Ticket, assignee_id: int | None, *, by: User, now: datetime) -> None:
    """Give the ticket to a colleague (None: nobody); InvalidInput if they cannot work tickets."""
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.is_active or assignee.role not in AGENT_ROLES:
            raise InvalidInput("not an agent", field="assignee")
    values: dict[str, object] = {"assignee_id": assignee_id, "updated_at": now}
    if ticket.status is TicketStatus.NEW and assignee_id is not None:
        values.update(status=TicketStatus.OPEN, version=Ticket.version + 1)
    session.execute(update(Ticket).where(Ticket.id == ticket.id).values(**values)
                    .execution_options(synchronize_session=False))
    session.refresh(ticket)


def conversation(session: Session, ticket: Ticket) -> list[TicketMessage]:
    """Every message after the first (which is the ticket's own body), oldest first, with attachments."""
    return list(session.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                                .order_by(TicketMessage.created_at, TicketMessage.id)
                                .options(selectinload(TicketMessage.attachments))))


def users_by_id(session: Session, ids: set[int]) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


# ---------- presence

def touch_viewer(session: Session, ticket: Ticket, user: User, *, now: datetime) -> None:
    """Record that ``user`` has the ticket open now (one row per agent and ticket)."""
    updated = session.execute(update(TicketViewer)
                              .where(TicketViewer.ticket_id == ticket.id, TicketViewer.user_id == user.id)
                              .values(seen_at=now).execution_options(synchronize_session=False))
    if updated.rowcount:
        return
    try:
        with session.begin_nested():
            session.add(TicketViewer(ticket_id=ticket.id, user_id=user.id, seen_at=now))
    except IntegrityError:  # a second tab of the same agent won the insert: that row is just as fresh
        pass


def other_viewers(session: Session, ticket: Ticket, *, user_id: int, now: datetime) -> list[User]:
    """Colleagues who had the ticket open in the last two minutes."""
    return list(session.scalars(
        select(User).join(TicketViewer, TicketViewer.user_id == User.id)
        .where(TicketViewer.ticket_id == ticket.id, TicketViewer.user_id != user_id,
               TicketViewer.seen_at >= now - PRESENCE_WINDOW)
        .order_by(TicketViewer.seen_at.desc())))


# ---------- the customer beside the ticket

@dataclass
class CustomerContext:
    order: Order | None
    returns: list[Return]
    previous: list[Ticket]


def customer_context(session: Session, ticket: Ticket, *, previous_limit: int = 10) -> CustomerContext:
    """The order the ticket names (if the customer owns it), else their latest; returns; earlier tickets."""
    email = ticket.customer_email.strip().lower()
    if not email:
        return CustomerContext(None, [], [])
    order = None
    if ticket.order_number:
        order = session.scalar(select(Order).where(Order.number == ticket.order_number.strip(),
                                                   Order.email == email))
    order = order or order_rules.latest_order(session, email=email)
    previous = list(session.scalars(
        select(Ticket).where(func.lower(Ticket.customer_email) == email, Ticket.id != ticket.id)
        .order_by(Ticket.created_at.desc()).limit(previous_limit)))
    return CustomerContext(order, customer_returns(session, email=email), previous)


# ---------- suggested articles

@dataclass(frozen=True)
class SuggestedAnswer:
    """A suggestion as the agent sees it: the score, and the version in the ticket's language."""

    suggestion: TicketSuggestion
    article: Article          # what gets linked: the translation in the ticket's language when there is one
    excerpt: str


def suggested_answers(session: Session, ticket: Ticket) -> list[SuggestedAnswer]:
    """The ticket's suggestions best first, each in the ticket's language where a translation exists,
    and each answer once (an article and its translation are one answer)."""
    answers, seen = [], set()
    for suggestion in sorted(ticket.suggestions, key=lambda s: (s.rank, -s.score)):
        article = suggestion.article
        if article.status is not ArticleStatus.PUBLISHED:
            continue
        shown = translations_of(session, article).get(ticket.language, article)
        if shown.id in seen:
            continue
        seen.add(shown.id)
        answers.append(SuggestedAnswer(suggestion, shown, article_excerpt(shown, EXCERPT_CHARS)))
    return answers


def record_suggested(session: Session, ticket: Ticket, answers: list[SuggestedAnswer], *, now: datetime) -> bool:
    """Count the suggestions as shown to an agent, once per ticket; False when already counted."""
    if not answers or session.scalar(select(ArticleEvent.id).where(
            ArticleEvent.ticket_id == ticket.id, ArticleEvent.kind == ArticleEventKind.SUGGESTED).limit(1)):
        return False
    for answer in answers:
        session.add(ArticleEvent(article_id=answer.suggestion.article_id, kind=ArticleEventKind.SUGGESTED,
                                 ticket_id=ticket.id, created_at=now))
    session.flush()
    return True
