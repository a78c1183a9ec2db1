"""The shop platform's side of the API: orders, order events and inquiries (bearer token)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kb import security_log
from kb.db import commit, session, utcnow
from kb.web.extensions import csrf
from kb.models import Article, Order, TicketSuggestion
from kb.services.accounts.api_tokens import authenticate
from kb.services.errors import InvalidInput
from kb.services.orders.order_import import parse_event, parse_order, upsert_orders
from kb.services.orders.rules import apply_status
from kb.services.editorial.suggestions import attach_suggestions
from kb.services.inquiries.tickets import parse_inquiry, upsert_inquiries
from kb.views.api import ApiError, json_body

bp = Blueprint("api_shop", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _unauthorized(message: str):  # type: ignore[no-untyped-def]
    response = jsonify(error=message, field="Authorization")
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="neuvo"'
    return response


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let the call through only with a live bearer token from `neuvo token add`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            security_log.record("api_token", "missing", status=401)
            return _unauthorized("a bearer token is required")
        if authenticate(session(), secret.strip(), now=utcnow()) is None:
            session().rollback()
            security_log.record("api_token", "invalid", status=401)
            return _unauthorized("the token is not valid")
        return view(*args, **kwargs)

    return wrapper


def _bad_input(error: InvalidInput) -> ApiError:
    session().rollback()
    return ApiError(400, error.message, error.field)


def _commit_or_conflict() -> None:
    """Commit; a racing request that created the same row first gets 409 and may retry."""
    try:
        commit()
    except IntegrityError:
        session().rollback()
        raise ApiError(409, "a concurrent request changed the same data; try again") from None


@bp.post("/orders")
@token_required
def upsert_order():  # type: ignore[no-untyped-def]
    """Create or update one order (the import format); 201 when created, 200 when updated."""
    try:
        item = parse_order(json_body())
        orders, created = upsert_orders(session(), [item], now=utcnow())
    except InvalidInput as error:
        raise _bad_input(error) from None
    except IntegrityError:
        session().rollback()
        raise ApiError(409, "a concurrent request changed the same order; try again", "number") from None
    _commit_or_conflict()
    order = orders[0]
    return jsonify(number=order.number, status=order.status.value, created=bool(created)), 201 if created else 200


@bp.post("/orders/<number>/events")
@token_required
def order_event(number: str):  # type: ignore[no-untyped-def]
    """Record a status the shop reports (packed, shipped...); waits for a customer's change in flight."""
    try:
        event = parse_event(json_body())
    except InvalidInput as error:
        raise _bad_input(error) from None
    db = session()
    order = db.scalar(select(Order).where(Order.number == number))
    if order is None:
        raise ApiError(404, "no order with this number", "number")
    apply_status(db, order, event.status, at=event.at)
    _commit_or_conflict()
    return jsonify(number=order.number, status=order.status.value,
                   event={"status": event.status.value, "at": event.at.isoformat()}), 201


@bp.post("/inquiries")
@token_required
def create_inquiry():  # type: ignore[no-untyped-def]
    """Store one inquiry (the import format, upsert by id) and answer with its suggested articles."""
    db, now = session(), utcnow()
    try:
        item = parse_inquiry(json_body())
        tickets, created = upsert_inquiries(db, [item], now=now)
    except InvalidInput as error:
        raise _bad_input(error) from None
    except IntegrityError:
        db.rollback()
        raise ApiError(409, "a concurrent request stored the same inquiry; try again", "id") from None
    ticket = tickets[0]
    attach_suggestions(db, tickets, current_app.extensions["neuvo_matchers"].current(db), now=now)
    db.flush()
    suggestions = [{"slug": slug, "title": title, "score": round(score, 4)} for slug, title, score in db.execute(
        select(Article.slug, Article.title, TicketSuggestion.score)
        .join(Article, Article.id == TicketSuggestion.article_id)
        .where(TicketSuggestion.ticket_id == ticket.id).order_by(TicketSuggestion.rank))]
    confident = ticket.suggestion_confident
    _commit_or_conflict()
    return jsonify(id=ticket.external_id, reference=ticket.id, created=bool(created), confident=confident,
                   suggestions=suggestions), 201 if created else 200
