"""The service dashboard and the admin settings: users and roles, channels, opening hours.

The dashboard is for managers and admins; agents get the same page with only
the tickets assigned to them (and without the help-center figures). The
settings pages are for admins only. Figures and rules live in
:mod:`kb.services.metrics.dashboard` and :mod:`kb.services.shop.settings_admin`.
"""
from __future__ import annotations

from datetime import timedelta
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from sqlalchemy import select

from kb import security_log
from kb.mailing.emailing import email_link, queue_message
from kb.web.access import roles_required
from kb.web.templating import local_date, reader_language
from kb.web.labels import code_label
from kb.db import commit, session, utcnow
from kb.models import Channel, ChannelKind, Role, User
from kb.services.accounts import auth as accounts
from kb.services.metrics import dashboard as metrics
from kb.services.shop import settings_admin as admin_rules
from kb.services.errors import InvalidInput, NotFound
from kb.services.mail.queue import queue_counts
from kb.services.shop.opening_hours import WEEKDAYS
from kb.services.shop.channels import get_setting
from kb.views.error_text import error_text

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Who sees the dashboard (admins always): agents see only their own tickets.
DASHBOARD_ROLES = (Role.AGENT, Role.MANAGER)
#: How long an invitation link (a first password-reset link) works.
INVITE_LIFETIME = timedelta(days=3)
#: Every CSV table name; agents get only the ticket tables.
CSV_TABLES = ("summary", "per_day", "by_channel", "by_type", "top_searches", "zero_result_searches")


@bp.after_request
def _no_store(response: Response) -> Response:
    """Figures and account lists must not be kept by browsers or proxies."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_filter("duration")
def _duration(seconds: float | None) -> str:
    """Seconds as "45 min", "2 h 5 min" or "3 d 4 h" (wall-clock)."""
    if seconds is None:
        return "–"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return _("%(m)d min", m=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h", d=days, h=hours)


# ---------- dashboard

def _dashboard_request() -> tuple[metrics.Period, dict[str, str]]:
    """The period and channel asked for; raises InvalidInput for bad dates or channel."""
    args = request.args
    tz = current_app.config["TIMEZONE"]
    today = utcnow().astimezone(ZoneInfo(tz)).date()
    first, last = metrics.parse_days(args.get("from"), args.get("to"), today=today)
    channel = metrics.parse_channel(args.get("channel"))
    own = current_user.role is Role.AGENT
    period = metrics.period_for_days(first, last, timezone=tz, channel=channel,
                                     assignee_id=current_user.id if own else None)
    return period, {"from": first.isoformat(), "to": last.isoformat(), "channel": channel.value if channel else ""}


def _chart_data(board: metrics.Dashboard) -> dict[str, Any]:
    """What static/js/dashboard.js draws; read from a JSON block (CSP allows no inline script)."""
    def series(label: str, rows: list[tuple[Any, int]], kind: str = "bar") -> dict[str, Any]:
        return {"type": kind, "label": label, "labels": [str(k) or _("not classified") for k, _n in rows],
                "values": [n for _k, n in rows]}

    return {"per_day": series(_("Inquiries"), [(local_date(d, "medium"), n) for d, n in board.per_day]),
            "by_channel": series(_("Inquiries"), [(code_label(k, "channel"), n) for k, n in board.by_channel]),
            "by_type": series(_("Inquiries"), [(code_label(k, "inquiry_type") if k else "", n)
                                               for k, n in board.by_type])}


@bp.route("/")
@roles_required(*DASHBOARD_ROLES)
def index():  # type: ignore[no-untyped-def]
    """The dashboard is the front page of the staff area."""
    return redirect(url_for("admin.dashboard"))


@bp.route("/dashboard")
@roles_required(*DASHBOARD_ROLES)
def dashboard():  # type: ignore[no-untyped-def]
    """KPI tiles, charts and tables for a period and channel (agents: their own tickets)."""
    own = current_user.role is Role.AGENT
    try:
        period, params = _dashboard_request()
    except InvalidInput as error:
        params = {key: request.args.get(key, "")[:20] for key in ("from", "to", "channel")}
        return render_template("admin/dashboard.html", board=None, error=error, params=params, own=own,
                               channels=list(ChannelKind)), 400
    board = metrics.build_dashboard(session(), period, timezone=current_app.config["TIMEZONE"], help_center=not own)
    return render_template("admin/dashboard.html", board=board, error=None, params=params, own=own,
                           channels=list(ChannelKind), charts=_chart_data(board))


@bp.route("/dashboard.csv")
@roles_required(*DASHBOARD_ROLES)
def dashboard_csv():  # type: ignore[no-untyped-def]
    """One dashboard table as CSV (cells defused against spreadsheet formulas)."""
    name = request.args.get("table", "")
    if name not in CSV_TABLES:
        return render_template("errors/error.html", code=400, message=_("Unknown table.")), 400
    try:
        period, params = _dashboard_request()
    except InvalidInput as error:
        return render_template("errors/error.html", code=400, message=error_text(error)), 400
    own = current_user.role is Role.AGENT
    board = metrics.build_dashboard(session(), period, timezone=current_app.config["TIMEZONE"], help_center=not own)
    tables = metrics.tables(board)
    if name not in tables:
        abort(403)
    header, rows = tables[name]
    filename = f"neuvo-{name}-{params['from']}-{params['to']}.csv"
    nordic = reader_language() in ("fi", "sv")  # Excel there expects semicolons, decimal commas and a BOM
    return Response(metrics.to_csv(header, rows, excel_nordic=nordic), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---------- users and roles



def _queue_invite(issued: accounts.IssuedReset) -> None:
    """Queue an e-mail with a link for choosing the first password (a reset link that lasts a few days)."""
    link = email_link("auth.reset_password", token=issued.token)
    shop = get_setting(session(), "shop_name", current_app.config["SHOP_NAME"])
    with force_locale(issued.user.language):
        subject = _("Your %(shop)s staff account", shop=shop)
        body = _("Hello,\n\nan account was created for you in the %(shop)s help center. "
                 "Open this link to choose your password:\n\n%(link)s\n\nThe link works once, for %(days)d days.\n",
                 shop=shop, link=link, days=INVITE_LIFETIME.days)
    queue_message(issued.user.email, subject, body, kind="invite")


def _users_page(errors: dict[str, str] | None = None, form: Any = None, status: int = 200):  # type: ignore[no-untyped-def]
    role = request.args.get("role", "")
    try:
        chosen = admin_rules.parse_role(role) if role else None
    except InvalidInput:
        chosen = None
    shown = admin_rules.list_users(session(), role=chosen)
    errors = dict(errors or {})
    listed = {f"user-{user.id}" for user in shown}
    for key in [k for k in errors if k.startswith("user-") and k not in listed]:
        errors["user"] = errors.pop(key)  # a user outside the list (a customer, filtered out): shown above it
    return render_template("admin/users.html", users=shown, roles=list(Role), staff_roles=admin_rules.STAFF_ROLES,
                           errors=errors, form=form or {}, role_filter=role,
                           languages=current_app.config["LANGUAGES"]), status


@bp.route("/users")
@roles_required()
def users():  # type: ignore[no-untyped-def]
    """Staff accounts with their roles; a form for adding one."""
    return _users_page()


@bp.route("/users", methods=["POST"])
@roles_required()
def add_user():  # type: ignore[no-untyped-def]
    """Add an account with a temporary password, or invite it by e-mail when none is given."""
    db, form, now = session(), request.form, utcnow()
    password = form.get("password", "")
    try:
        user = admin_rules.add_user(db, form.get("email", ""), role=admin_rules.parse_role(form.get("role", "")),
                                    name=form.get("name", ""), language=form.get("language", ""),
                                    password=password, now=now)
        issued = None if password else accounts.start_password_reset(db, user.email, now=now,
                                                                      lifetime=INVITE_LIFETIME)
    except InvalidInput as error:
        db.rollback()
        return _users_page({error.field or "email": error_text(error)}, form, 400)
    if issued is not None:
        _queue_invite(issued)
    commit()
    security_log.record("user_added", user=user, invited=issued is not None)
    if issued is not None:
        flash(_("Account %(email)s added; an invitation to choose a password was sent.", email=user.email), "success")
    else:
        flash(_("Account %(email)s added with the temporary password you chose.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@roles_required()
def change_role(user_id: int):  # type: ignore[no-untyped-def]
    """Give a user another role."""
    db = session()
    try:
        user = admin_rules.change_role(db, user_id, admin_rules.parse_role(request.form.get("role", "")),
                                       by=current_user._get_current_object())
    except NotFound:
        abort(404)
    except InvalidInput as error:
        db.rollback()
        return _users_page({f"user-{user_id}": error_text(error)}, status=400)
    commit()
    security_log.record("role_changed", user=user)
    flash(_("%(email)s is now %(role)s.", email=user.email, role=user.role.value), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required()
def set_active(user_id: int):  # type: ignore[no-untyped-def]
    """Disable an account (its sessions end at once) or enable it again."""
    db = session()
    active = request.form.get("active")
    if active not in ("0", "1"):
        return _users_page({f"user-{user_id}": _("Choose to enable or disable.")}, status=400)
    try:
        user = admin_rules.set_active(db, user_id, active == "1", by=current_user._get_current_object(),
                                      now=utcnow())
    except NotFound:
        abort(404)
    except InvalidInput as error:
        db.rollback()
        return _users_page({f"user-{user_id}": error_text(error)}, status=400)
    commit()
    security_log.record("account_enabled" if user.is_active else "account_disabled", user=user)
    flash(_("%(email)s was enabled.", email=user.email) if user.is_active
          else _("%(email)s was disabled and logged out.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/two-step/reset", methods=["POST"])
@roles_required()
def reset_two_step(user_id: int):  # type: ignore[no-untyped-def]
    """Turn off a user's two-step verification (a lost phone and lost recovery codes); the owner is e-mailed."""
    from kb.views.accounts.two_factor import reset_by_admin

    user = session().get(User, user_id)
    if user is None:
        abort(404)
    if not user.two_step_enabled:
        flash(_("%(email)s does not use two-step verification.", email=user.email), "error")
        return redirect(url_for("admin.users"))
    reset_by_admin(user)
    commit()
    flash(_("Two-step verification of %(email)s was turned off; they can set it up again after logging in.",
            email=user.email), "success")
    return redirect(url_for("admin.users"))


# ---------- channels, hours and special days

def _channel_form(channel: Channel | None) -> dict[str, str]:
    """A channel's stored values as the flat form fields."""
    if channel is None:
        return {"kind": "", "position": "100"}
    values = {"kind": channel.kind.value, "address": channel.address, "position": str(channel.position)}
    for language in current_app.config["LANGUAGES"]:
        values[f"label_{language}"] = channel.labels.get(language, "")
        values[f"response_time_{language}"] = channel.response_times.get(language, "")
    for day in WEEKDAYS:
        values[f"hours_{day}"] = admin_rules.spans_text(channel.hours.get(day, []))
    return values


@bp.route("/channels")
@roles_required()
def channels():  # type: ignore[no-untyped-def]
    """Contact channels in display order with their weekly hours."""
    rows = session().scalars(select(Channel).order_by(Channel.position, Channel.id)).all()
    return render_template("admin/channels.html", channels=rows, spans_text=admin_rules.spans_text,
                           weekdays=WEEKDAYS)


@bp.route("/channels/new", methods=["GET", "POST"], defaults={"channel_id": None})
@bp.route("/channels/<int:channel_id>", methods=["GET", "POST"])
@roles_required()
def edit_channel(channel_id: int | None):  # type: ignore[no-untyped-def]
    """Add or edit a channel: labels and response times per language, address, weekly hours."""
    db = session()
    channel = db.get(Channel, channel_id) if channel_id is not None else None
    if channel_id is not None and channel is None:
        abort(404)
    languages = current_app.config["LANGUAGES"]
    if request.method == "POST":
        form = request.form
        data = admin_rules.ChannelInput(
            kind=form.get("kind", ""), address=form.get("address", ""), position=form.get("position", ""),
            labels={lang: form.get(f"label_{lang}", "") for lang in languages},
            response_times={lang: form.get(f"response_time_{lang}", "") for lang in languages},
            hours={day: form.get(f"hours_{day}", "") for day in WEEKDAYS})
        try:
            admin_rules.save_channel(db, channel_id, data)
        except InvalidInput as error:
            db.rollback()
            return render_template("admin/channel_form.html", channel=channel, form=form, weekdays=WEEKDAYS,
                                   errors={error.field or "form": error_text(error)}, kinds=list(ChannelKind),
                                   languages=languages), 400
        commit()
        flash(_("The channel was saved."), "success")
        return redirect(url_for("admin.channels"))
    return render_template("admin/channel_form.html", channel=channel, form=_channel_form(channel), weekdays=WEEKDAYS,
                           errors={}, kinds=list(ChannelKind), languages=languages)


@bp.route("/channels/<int:channel_id>/delete", methods=["POST"])
@roles_required()
def delete_channel(channel_id: int):  # type: ignore[no-untyped-def]
    """Remove a channel from the help center."""
    return _delete(admin_rules.delete_channel, channel_id, _("The channel was removed."), "admin.channels")


def _delete(remove: Callable[[Any, int], None], item_id: int, done: str, back: str):  # type: ignore[no-untyped-def]
    """Remove one row (404 if it is not there), say so and go back to its list."""
    try:
        remove(session(), item_id)
    except NotFound:
        abort(404)
    commit()
    flash(done, "success")
    return redirect(url_for(back))


def _special_days_page(errors: dict[str, str] | None = None, form: Any = None, status: int = 200):  # type: ignore[no-untyped-def]
    today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    days = admin_rules.list_special_days(session(), since=today - timedelta(days=31))
    return render_template("admin/special_days.html", days=days, errors=errors or {}, form=form or {},
                           spans_text=admin_rules.spans_text, languages=current_app.config["LANGUAGES"]), status


@bp.route("/special-days", methods=["GET", "POST"])
@roles_required()
def special_days():  # type: ignore[no-untyped-def]
    """Holidays and days with other hours (all channels), with a note per language."""
    if request.method == "GET":
        return _special_days_page()
    db, form = session(), request.form
    try:
        admin_rules.save_special_day(db, form.get("day", ""), closed=form.get("closed") == "1",
                                     hours=form.get("hours", ""),
                                     notes={lang: form.get(f"note_{lang}", "")
                                            for lang in current_app.config["LANGUAGES"]})
    except InvalidInput as error:
        db.rollback()
        return _special_days_page({error.field or "day": error_text(error)}, form, 400)
    commit()
    flash(_("The special day was saved."), "success")
    return redirect(url_for("admin.special_days"))


@bp.route("/special-days/<int:day_id>/delete", methods=["POST"])
@roles_required()
def delete_special_day(day_id: int):  # type: ignore[no-untyped-def]
    """Remove a special day: the regular weekly hours apply again."""
    return _delete(admin_rules.delete_special_day, day_id, _("The special day was removed."), "admin.special_days")


# ---------- shop settings

@bp.route("/settings", methods=["GET", "POST"])
@roles_required()
def settings():  # type: ignore[no-untyped-def]
    """Shop name, return window and the help articles shown on the self-service pages."""
    db = session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            admin_rules.update_shop_settings(db, request.form)
        except InvalidInput as error:
            db.rollback()
            errors[error.field or "shop_name"] = error_text(error)
        else:
            commit()
            flash(_("The settings were saved."), "success")
            return redirect(url_for("admin.settings"))
    values = request.form if errors else admin_rules.shop_settings(db, default_name=current_app.config["SHOP_NAME"])
    return render_template("admin/settings.html", values=values, errors=errors, pages=admin_rules.PAGES,
                           mail=queue_counts(db)), (400 if errors else 200)
