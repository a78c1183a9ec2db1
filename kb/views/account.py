"""Customer self-service: order tracking, changes until packed, returns, order history and invoices.

Every URL that names an order, return or invoice answers 404 unless the viewer
owns it: a logged-in customer by e-mail, a guest by having proven the order
number and e-mail in this session. A guest changes an order or registers a return only after
opening a link mailed to the order's address (kb.views.order_links).
"""
from __future__ import annotations

import secrets

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   session as flask_session, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from kb import security_log
from kb.web.security import id_arg, small_int
from kb.db import commit, session, utcnow
from kb.web.extensions import limiter
from kb.models import Invoice, Order, Product
from kb.services.orders import rules as order_rules, returns as return_rules
from kb.services.errors import DomainError, InvalidInput, NotFound
from kb.services.helpcenter.self_service import help_article, return_window_days
from kb.views import order_links
from kb.views.order_links import GUEST_KEY, send_guest_to_log_in, viewer_order
from kb.views.error_text import error_text
from sqlalchemy import select

bp = Blueprint("account", __name__)


@bp.after_request
def _no_store(response: Response) -> Response:
    """Orders, addresses and invoices are personal: browsers and proxies must not keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _lang() -> str:
    from kb.web.extensions import select_locale

    return select_locale()


def _window(order: Order) -> dict:
    days = return_window_days(session())
    return {"days": days, "last_day": return_rules.last_return_day(order, window_days=days,
                                                                   timezone=current_app.config["TIMEZONE"])}


def _malformed_number() -> bool:
    """A malformed order number is a typo, not a guess: exempt from the visitor's attempts (it looks nothing
    up). Decided before the limit is counted, so well-formed guesses stay counted atomically across workers."""
    if request.method != "POST":
        return False
    try:
        order_rules.normalise_order_number(request.form.get("number", "")[:200])
    except InvalidInput:
        return True
    return False


@bp.route("/<lang>/tilaus/seuranta", methods=["GET", "POST"])
@limiter.limit("10 per 10 minutes", methods=["POST"], exempt_when=_malformed_number)
def track(lang: str):  # type: ignore[no-untyped-def]
    """Guests find their order by order number and e-mail (no hint which one was wrong)."""
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    flask_session["lang"] = lang
    if current_user.is_authenticated and request.method == "GET" and not request.args:
        return redirect(url_for("account.orders"))
    error = None
    if request.method == "POST":
        email = request.form.get("email", "").strip()[:254]
        try:
            number = order_rules.normalise_order_number(request.form.get("number", "")[:200])
        except InvalidInput:
            number = None
            error = _("That does not look like an order number. You find it in your order confirmation, for "
                      "example 102383.")
        if number is not None:
            if not order_links.spend_lookup(number, email):
                security_log.record("order_lookup", "locked", email=email)
                abort(429)
            try:
                order_rules.customer_order(session(), number, email=email)
            except NotFound:
                error = _("We could not find an order with that number and e-mail address. Check both and try again.")
    if request.method == "POST" and error is None:
        order_links.forget_lookup(number, email)
        guest = dict(flask_session.get(GUEST_KEY, {}))
        guest[number] = email.lower()
        flask_session[GUEST_KEY] = dict(list(guest.items())[-10:])
        return redirect(url_for("account.order", number=number))
    return render_template("account/track.html", error=error, help=help_article(session(), "tracking", lang)), (
        400 if error else 200)


@bp.route("/tili/tilaukset")
@login_required
def orders():  # type: ignore[no-untyped-def]
    """The customer's orders, newest first."""
    page = max(1, request.args.get("page", 1, type=id_arg))
    rows, total = order_rules.customer_orders(session(), email=current_user.email, page=page)
    return render_template("account/orders.html", orders=rows, total=total, page=page, per_page=10,
                           help=help_article(session(), "invoices", _lang()))


@bp.route("/tilaus/<number>")
def order(number: str):  # type: ignore[no-untyped-def]
    """Tracking: status timeline, carrier, expected delivery, lines, returns and invoices."""
    found = viewer_order(number)
    db = session()
    return render_template(
        "account/order.html", order=found, steps=order_rules.timeline(found),
        returns=[r for r in return_rules.customer_returns(db, email=found.email) if r.order_id == found.id],
        window=_window(found), now=utcnow(),
        help_tracking=help_article(db, "tracking", _lang()), help_changes=help_article(db, "changes", _lang()),
        help_returns=help_article(db, "returns", _lang()),
    )


@bp.route("/tilaus/<number>/muuta")
def change(number: str):  # type: ignore[no-untyped-def]
    """Forms for every change the order still allows (a guest first opens the link mailed to the order)."""
    found = viewer_order(number)
    if not order_links.may_change(found):
        return order_links.ask_for_link(found, action="change")
    return _change_page(found)


def _change_page(found: Order, *, failed: str | None = None, errors: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The change forms; after a refused change, that form again with what was typed and the field's error."""
    products = session().scalars(select(Product).where(Product.available.is_(True)).order_by(Product.name)).all()
    return render_template("account/change.html", order=found, products=products, failed=failed,
                           errors=errors or {}, typed=request.form if failed else {},
                           help=help_article(session(), "changes", _lang())), (400 if failed else 200)


def _apply(number: str, action, form: str = "") -> Response:  # type: ignore[no-untyped-def]
    """Run one change; refusals become a message on the order's page, or ``form`` shown again with the error."""
    found = viewer_order(number)
    if not order_links.may_change(found):
        return redirect(url_for("account.change", number=number))
    version = small_int(request.form.get("version"), default=-1)
    try:
        action(found, version)
    except order_rules.OrderChangedMeanwhile:
        session().rollback()
        flash(_("The order changed while you were looking at it. Please check it and try again."), "error")
        return redirect(url_for("account.order", number=number))
    except order_rules.OrderAlreadyPacked:
        session().rollback()
        flash(_("Your order has already been packed, so it can no longer be changed. You can return products "
                "once they arrive."), "error")
        return redirect(url_for("account.order", number=number))
    except InvalidInput as error:
        session().rollback()
        if not form:
            flash(_("Could not change the order: %(message)s", message=error_text(error)), "error")
            return redirect(url_for("account.change", number=number))
        return _change_page(viewer_order(number), failed=form,
                            errors={error.field or "form": error_text(error)})  # type: ignore[return-value]
    except NotFound:
        abort(404)
    commit()
    flash(_("Your order has been changed. We sent the change to the shop."), "success")
    return redirect(url_for("account.order", number=number))


@bp.post("/tilaus/<number>/osoite")
def change_address(number: str):  # type: ignore[no-untyped-def]
    """Change the delivery address."""
    data = {k: request.form.get(k, "") for k in order_rules.ADDRESS_FIELDS}
    return _apply(number, lambda o, v: order_rules.change_address(session(), o, data, now=utcnow(), expected_version=v),
                  "address")


@bp.post("/tilaus/<number>/rivi/<int:line_id>")
def change_line(number: str, line_id: int):  # type: ignore[no-untyped-def]
    """Change a line's quantity; 0 removes it."""
    quantity = small_int(request.form.get("quantity"), default=-1, maximum=1000)
    return _apply(number, lambda o, v: order_rules.change_quantity(session(), o, line_id, quantity, now=utcnow(),
                                                                       expected_version=v), f"line-{line_id}")


@bp.post("/tilaus/<number>/lisaa")
def add_product(number: str):  # type: ignore[no-untyped-def]
    """Add a product to the order."""
    quantity_value = small_int(request.form.get("quantity", "1"), default=0, maximum=1000)
    sku = request.form.get("sku", "")[:64]
    return _apply(number, lambda o, v: order_rules.add_product(session(), o, sku, quantity_value, now=utcnow(),
                                                                    expected_version=v), "add")


@bp.post("/tilaus/<number>/peru")
def cancel(number: str):  # type: ignore[no-untyped-def]
    """Cancel the whole order."""
    viewer_order(number)  # 404 before anything else for someone else's order
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm the cancellation."), "error")
        return redirect(url_for("account.change", number=number))
    return _apply(number, lambda o, v: order_rules.cancel_order(session(), o, now=utcnow(), expected_version=v))


@bp.route("/tili/palautukset/uusi")
def new_return():  # type: ignore[no-untyped-def]
    """Pick the order to return products from (customers), or find it first (guests)."""
    if not current_user.is_authenticated:
        return redirect(url_for("account.track", lang=_lang()))
    rows, _total = order_rules.customer_orders(session(), email=current_user.email, page=1, per_page=50)
    now, days = utcnow(), return_window_days(session())
    tz = current_app.config["TIMEZONE"]
    returnable = []
    for row in rows:
        try:
            return_rules.check_window(row, now=now, window_days=days, timezone=tz)
        except DomainError:
            continue
        returnable.append(row)
    return render_template("account/new_return.html", orders=returnable,
                           help=help_article(session(), "returns", _lang()))


@bp.route("/tilaus/<number>/palautus", methods=["GET", "POST"])
def register_return(number: str):  # type: ignore[no-untyped-def]
    """Choose lines, quantities, a reason and refund or exchange; one return per form."""
    from kb.mailing.return_mail import queue_return_mail

    found = viewer_order(number)
    blocked = _return_blocker(found)
    if blocked is None and not order_links.may_change(found):  # why it cannot be returned needs no link
        return order_links.ask_for_link(found, action="return")
    db = session()
    available = return_rules.returnable_quantities(db, found)
    errors: dict[str, str] = {}
    lang = _lang()
    complaints = help_article(db, "complaints", lang)
    if blocked is None and request.method == "POST":
        lines = {}
        for line in found.lines:
            raw = request.form.get(f"qty-{line.id}", "0") or "0"
            lines[line.id] = small_int(raw, default=-1, maximum=1000)
        req = return_rules.ReturnRequest(
            lines={k: v for k, v in lines.items() if v}, reason=request.form.get("reason", ""),
            resolution=request.form.get("resolution", ""), comment=request.form.get("comment", ""),
            idempotency_key=request.form.get("idempotency_key", ""),
            exchange_for=request.form.get("exchange_for", "")[:1000])
        shop = _shop()
        try:
            return_rules.check_self_service_reason(req.reason)
            registered = return_rules.register_return(
                db, found, req, now=utcnow(), window_days=return_window_days(db),
                timezone=current_app.config["TIMEZONE"],
                on_registered=lambda ret: queue_return_mail(ret, shop, language=lang))
        except return_rules.ReturnWindowClosed:
            db.rollback()
            blocked = "closed"
        except return_rules.NotDelivered:
            db.rollback()
            blocked = "not_delivered"
        except return_rules.IsComplaint:
            db.rollback()
            errors["reason"] = _("A faulty product is not returned here: it is a complaint, and the period for "
                                 "returns does not limit it. Tell us about the fault and we will agree on a repair, "
                                 "a new product or a refund.")
        except InvalidInput as error:
            db.rollback()
            errors[error.field or "form"] = error_text(error)
        except NotFound:
            abort(404)
        else:
            commit()
            flash(_("Return %(rma)s registered. We sent the return number and the instructions to %(email)s; you "
                    "can also print them below.", rma=registered.rma, email=found.email), "success")
            return redirect(url_for("account.return_status", rma=registered.rma))
    refused = request.method == "POST" and (errors or blocked)
    return render_template("account/return_form.html", order=found, available=available, errors=errors,
                           reasons=return_rules.REASONS, form=request.form, window=_window(found), blocked=blocked,
                           complaint_reasons=return_rules.COMPLAINT_REASONS, complaints=complaints,
                           complaint_link=url_for("contact.form", tilaus=found.number, aihe="warranty"),
                           idempotency_key=request.form.get("idempotency_key") or secrets.token_urlsafe(24),
                           help=help_article(db, "returns", lang)), (400 if refused else 200)


def _return_blocker(order: Order) -> str | None:
    """Why the order cannot be returned now ("not_delivered", "closed"), or None."""
    try:
        return_rules.check_window(order, now=utcnow(), window_days=return_window_days(session()),
                                  timezone=current_app.config["TIMEZONE"])
    except return_rules.NotDelivered:
        return "not_delivered"
    except return_rules.ReturnWindowClosed:
        return "closed"
    return None


def _shop():  # type: ignore[no-untyped-def]
    """The shop's legal name, business ID and addresses (settings)."""
    from kb.services.shop.shop_details import shop_details

    return shop_details(session(), default_name=current_app.config["SHOP_NAME"])


def _return(rma: str):  # type: ignore[no-untyped-def]
    """The return if the viewer owns its order (by login, or by a guest's verified order)."""
    if current_user.is_authenticated:
        emails = [current_user.email]
    else:
        emails = list(dict.fromkeys(flask_session.get(GUEST_KEY, {}).values()))
    for email in emails:
        try:
            return return_rules.customer_return(session(), rma, email=email)
        except NotFound:
            continue
    send_guest_to_log_in()
    abort(404)


@bp.route("/palautus/<rma>")
def return_status(rma: str):  # type: ignore[no-untyped-def]
    """The return's status and what to do next."""
    return render_template("account/return.html", ret=_return(rma),
                           help=help_article(session(), "returns", _lang()))


@bp.route("/palautus/<rma>/ohje")
def return_label(rma: str):  # type: ignore[no-untyped-def]
    """Printable return instructions with the RMA number as the label, and the shop's return address."""
    from kb.mailing.return_mail import return_steps

    ret = _return(rma)
    return render_template("account/return_label.html", ret=ret, steps=return_steps(ret.rma), shop=_shop())


@bp.route("/tili/palautukset")
@login_required
def returns():  # type: ignore[no-untyped-def]
    """All of the customer's returns."""
    return render_template("account/returns.html", returns=return_rules.customer_returns(session(),
                                                                                        email=current_user.email))


def _invoice(number: str) -> Invoice:
    invoice = session().scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None:
        send_guest_to_log_in()
        abort(404)
    viewer_order(invoice.order.number)  # ownership, 404 otherwise
    return invoice


@bp.route("/lasku/<number>")
def invoice(number: str):  # type: ignore[no-untyped-def]
    """Printable invoice with the VAT breakdown."""
    from kb.services.orders.invoices import GENERAL_VAT_BP, PAID, invoice_totals, reference_number, vat_breakdown

    inv = _invoice(number)
    return render_template("account/invoice.html", invoice=inv, order=inv.order, vat=vat_breakdown(inv),
                           totals=invoice_totals(inv), shop=_shop(), paid=inv.order.status in PAID,
                           reference=reference_number(inv.order.number), general_vat_bp=GENERAL_VAT_BP)


@bp.route("/lasku/<number>.pdf")
def invoice_pdf(number: str):  # type: ignore[no-untyped-def]
    """The invoice as a PDF download."""
    from kb.services.orders.invoices import invoice_pdf as render_pdf

    inv = _invoice(number)
    pdf = render_pdf(inv, inv.order, shop=_shop().pdf_fields())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="lasku-{inv.number}.pdf"'})
