"""Template helpers: shop name, language links, date formatting, Markdown."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_currency, format_date, format_datetime, format_decimal, format_time, get_locale

from kb.services.markdown_render import plain_text, render_markdown

LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


def _language_links() -> dict[str, str]:
    """The current page in each UI language (help pages keep their place)."""
    links = {}
    endpoint = request.endpoint or ""
    for code in current_app.config["LANGUAGES"]:
        if endpoint.startswith("help.") and endpoint != "help.article" and request.view_args is not None:
            query = {k: v for k, v in request.args.items() if not k.startswith("_")}  # _method etc. are url_for options
            args = {**request.view_args, **query, "lang": code}
            links[code] = url_for(endpoint, **args)
        else:
            links[code] = url_for("help.home", lang=code)
    return links


def _shop_name() -> str:
    if "shop_name" not in g:
        from kb.db import session
        from kb.services.shop import get_setting

        g.shop_name = get_setting(session(), "shop_name", current_app.config["SHOP_NAME"])
    return g.shop_name


def _context() -> dict[str, Any]:
    return {
        "shop_name": _shop_name,
        "language_links": _language_links,
        "language_names": LANGUAGE_NAMES,
        "current_lang": lambda: str(get_locale() or current_app.config["DEFAULT_LANGUAGE"]),
    }


def _local_time(value: datetime, style: str = "short") -> str:
    return format_datetime(value, style)


def _local_date(value: datetime, style: str = "long") -> str:
    return format_date(value, style)


def _clock(value: datetime) -> str:
    """Time of day in the reader's locale (17.00 in Finnish, 17:00 in Swedish)."""
    return format_time(value, "short")


def weekday_clock(value: datetime) -> str:
    """Weekday and time, e.g. "maanantai 9.00"."""
    return f"{format_datetime(value, 'EEEE')} {format_time(value, 'short')}"


TRACKING_URLS = {
    "posti": "https://www.posti.fi/fi/seuranta#/lahetys/{code}",
    "matkahuolto": "https://www.matkahuolto.fi/seuranta?parcelNumber={code}",
    "db schenker": "https://www.dbschenker.com/app/tracking-public/?refNumber={code}",
}


def _money(cents: int) -> str:
    """Euros in the reader's locale: 1 234,50 € in Finnish."""
    return format_currency(cents / 100, "EUR")


def _score(value: float) -> str:
    """A similarity score with two decimals in the reader's locale (0,42 in Finnish)."""
    return format_decimal(value, format="0.00")


def _vat_percent(basis_points: int) -> str:
    """A VAT rate with its percent sign in the reader's locale: "25,5 %" in Finnish, "25.5%" in English."""
    from babel.numbers import format_percent

    return format_percent(int(basis_points) / 10_000, locale=get_locale(), decimal_quantization=False)


def _tracking_url(order: Any) -> str | None:
    """The carrier's public tracking page for the order's parcel, if the carrier is known."""
    from urllib.parse import quote

    template = TRACKING_URLS.get((order.carrier or "").strip().lower())
    if not template or not order.tracking_code:
        return None
    return template.format(code=quote(order.tracking_code, safe=""))


def _local_day(value: datetime) -> Any:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def init_app(app: Flask) -> None:
    app.context_processor(_context)
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(plain_text, "plain_text")
    app.add_template_filter(_local_time, "local_time")
    app.add_template_filter(_local_date, "local_date")
    app.add_template_filter(_clock, "clock")
    app.add_template_filter(_money, "money")
    app.add_template_filter(_vat_percent, "vat_percent")
    app.add_template_filter(_score, "score")
    app.add_template_filter(_tracking_url, "tracking_url")
    app.add_template_filter(_local_day, "local_day")
    app.add_template_filter(weekday_clock, "weekday_clock")
