"""Guests and their orders: the limits on finding an order, and the mailed link before a change.

A guest who typed an order's number and e-mail address sees the order; to change it (address,
lines, cancelling) or register a return the guest asks for a link, mailed to the order's own
address, and opens it: that browser may then change that one order for a while. Rules:
:mod:`kb.services.orders.order_access`.
"""
from __future__ import annotations

import time

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session as flask_session, url_for)
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from kb import security_log
from kb.db import commit, session, utcnow
from kb.mailing.emailing import email_link, queue_message
from kb.web.extensions import limiter
from kb.models import Order
from kb.web.security import forget_attempts, spend_attempt
from kb.services.errors import NotFound
from kb.services.orders import order_access, rules as order_rules
from kb.services.shop.channels import get_setting

bp = Blueprint("order_links", __name__)
#: Orders this browser may change after opening their mailed link: {number: [email, until (epoch seconds)]}.
CHANGE_KEY = "guest_changes"


#: The orders a guest has found by number and e-mail in this session: {number: e-mail}.
GUEST_KEY = "guest_orders"


def viewer_email(number: str | None = None) -> str | None:
    """The e-mail whose orders the current visitor may see."""
    if current_user.is_authenticated:
        return current_user.email
    if number is not None:
        return flask_session.get(GUEST_KEY, {}).get(number)
    return None


def send_guest_to_log_in() -> None:
    """A visitor not logged in who opened an order, return or invoice not found in this session: to the
    log-in form, and back here after it (pages only; a form sent is refused as before).

    Called only when the visitor may not see the thing, whether or not it exists, so the answer tells
    nothing about which numbers exist.
    """
    if not current_user.is_authenticated and request.method == "GET":
        abort(redirect(url_for("auth.login", next=request.full_path.rstrip("?"))))


def viewer_order(number: str) -> Order:
    """The order ``number`` if the current visitor may see it (its owner, or a guest who found it); else 404
    (a guest's page request goes to the log-in form instead)."""
    email = viewer_email(number)
    if email is None:
        send_guest_to_log_in()
        abort(404)
    try:
        return order_rules.customer_order(session(), number, email=email)
    except NotFound:
        abort(404)


@bp.after_request
def _no_store(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------- finding an order: limited per e-mail address and per order number, as log-in is per account

def _lookup_keys(number: str, email: str) -> list[tuple[str, ...]]:
    limit = current_app.config["GUEST_LOOKUP_FAILURE_LIMIT"]
    return [(limit, "track-email", email.strip().lower()), (limit, "track-number", number.strip().upper())]


def spend_lookup(number: str, email: str) -> bool:
    """Count one lookup for the address and for the number (before checking them); False once either is used up.

    The per-client limit alone let one client with many addresses (an IPv6 /64, a botnet) try
    number after number with a customer's address; these limits hold whichever client asks.
    """
    return all([spend_attempt(*key) for key in _lookup_keys(number, email)])


def forget_lookup(number: str, email: str) -> None:
    """A lookup that found the order starts both counts again (the owner is not locked out by their own visits)."""
    for key in _lookup_keys(number, email):
        forget_attempts(*key)


# ---------- may this visitor change the order?

def may_change(order: Order) -> bool:
    """A logged-in owner always (the caller checked ownership); a guest only after opening the order's link."""
    if current_user.is_authenticated:
        return True
    grant = flask_session.get(CHANGE_KEY, {}).get(order.number)
    return bool(grant) and grant[0] == order.email and grant[1] > time.time()


def ask_for_link(order: Order, *, action: str):  # type: ignore[no-untyped-def]
    """The page that offers to mail the link, in place of a change or return form."""
    return render_template("account/order_link.html", order=order, action=action, form=FlaskForm(),
                           minutes=int(order_access.LINK_LIFETIME.total_seconds() // 60))


def _grant(order: Order) -> None:
    until = time.time() + order_access.CHANGE_WINDOW.total_seconds()
    grants = {k: v for k, v in flask_session.get(CHANGE_KEY, {}).items() if v[1] > time.time()}
    grants[order.number] = [order.email, until]
    flask_session[CHANGE_KEY] = dict(list(grants.items())[-5:])
    guest = dict(flask_session.get(GUEST_KEY, {}))
    guest[order.number] = order.email
    flask_session[GUEST_KEY] = dict(list(guest.items())[-10:])


def _mail_link(issued: order_access.IssuedLink, language: str) -> None:
    shop = get_setting(session(), "shop_name", current_app.config["SHOP_NAME"])
    minutes = int((issued.expires_at - utcnow()).total_seconds() // 60) or 1
    with force_locale(language):
        subject = _("Change your order %(number)s at %(shop)s", number=issued.order.number, shop=shop)
        body = _("Hello,\n\nsomeone, hopefully you, asked to change order %(number)s at %(shop)s or to return "
                 "products from it. Open this link to do so:\n\n%(link)s\n\nThe link works once, for %(minutes)d "
                 "minutes. If you did not ask for it, you can ignore this message: nothing changes without "
                 "the link.\n", number=issued.order.number, shop=shop, minutes=minutes,
                 link=email_link("order_links.open_link", token=issued.token))
    queue_message(issued.order.email, subject, body, kind="order_link")


def _order_number_key() -> str:
    return "order-link:" + (request.view_args or {}).get("number", "")


# ---------- views

@bp.post("/tilaus/<number>/linkki")
@limiter.limit(lambda: current_app.config["ORDER_LINK_RATE_LIMIT"])
@limiter.limit(lambda: current_app.config["ORDER_LINK_RATE_LIMIT"], key_func=_order_number_key)
def send_link(number: str):  # type: ignore[no-untyped-def]
    """Mail a single-use link to the order's own address (only for a visitor who may see the order)."""
    from kb.web.extensions import select_locale

    found = viewer_order(number)  # 404 unless this visitor found the order (or owns it)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if may_change(found):
        return redirect(url_for("account.change", number=number))
    issued = order_access.issue_link(session(), found, now=utcnow())
    _mail_link(issued, select_locale())
    commit()
    security_log.record("order_link", "sent", email=found.email)
    flash(_("We sent a link to %(email)s. Open it to change the order or return products; it works once, "
            "for %(minutes)d minutes.", email=found.email,
            minutes=int(order_access.LINK_LIFETIME.total_seconds() // 60)), "success")
    return redirect(url_for("account.order", number=number))


@bp.route("/tilaus/linkki/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ORDER_LINK_RATE_LIMIT"], methods=["POST"])
def open_link(token: str):  # type: ignore[no-untyped-def]
    """Confirm with a button (mail scanners open GET links), then this browser may change the order."""
    db = session()
    try:
        found = order_access.check_link(db, token, now=utcnow())
    except order_access.InvalidLink:
        security_log.record("order_link", "invalid_link")
        return render_template("account/order_link_invalid.html"), 404
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            found = order_access.use_link(db, token, now=utcnow())
        except order_access.InvalidLink:
            db.rollback()
            return render_template("account/order_link_invalid.html"), 404
        commit()
        _grant(found)
        security_log.record("order_link", "used", email=found.email)
        flash(_("You can now change order %(number)s.", number=found.number), "success")
        return redirect(url_for("account.change", number=found.number))
    return render_template("account/order_link_open.html", order=found, form=form), (
        400 if request.method == "POST" else 200)
