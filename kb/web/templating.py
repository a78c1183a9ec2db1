"""Template helpers: shop name, language links, date formatting, Markdown."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from babel import Locale, dates as babel_dates, numbers as babel_numbers
from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale, get_timezone

from kb.services.helpcenter.article_render import article_excerpt, article_html
from kb.services.helpcenter.markdown_render import plain_text, render_markdown
from kb.web.labels import code_label

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
        from kb.services.shop.channels import get_setting

        g.shop_name = get_setting(session(), "shop_name", current_app.config["SHOP_NAME"])
    return g.shop_name


def shop_name() -> str:
    """The shop's name, read once per request (views read it before ending their transaction)."""
    return _shop_name()


def _context() -> dict[str, Any]:
    return {
        "shop_name": _shop_name,
        "language_links": _language_links,
        "language_names": LANGUAGE_NAMES,
        "current_lang": lambda: str(get_locale() or current_app.config["DEFAULT_LANGUAGE"]),
    }


#: The locale each UI language formats dates and numbers in: Finnish and Swedish as written in
#: Finland, English the British way (day before month, 24-hour clock), never the US defaults.
FORMAT_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
#: Date and time together, as people write them: "6.12.2026 klo 3.17", "6.12.2026 kl. 3.17", "6 Dec 2026, 03:17".
DATETIME_PATTERNS = {"fi": "d.M.yyyy 'klo' H.mm", "sv": "d.M.yyyy 'kl.' H.mm", "en": "d MMM yyyy, HH:mm"}
#: Dates: "medium" is the short written form ("6.12.2026", "6 dec. 2026", "6 Dec 2026").
DATE_PATTERNS = {"fi": {"short": "d.M.yyyy", "medium": "d.M.yyyy"}, "sv": {"short": "d.M.yyyy"},
                 "en": {"short": "d MMM yyyy"}}


def reader_language() -> str:
    """The reader's UI language (fi, sv or en)."""
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])[:2]


def format_locale() -> str:
    """The Babel locale for formatting in the reader's language."""
    return FORMAT_LOCALES.get(reader_language(), "fi_FI")


def _in_zone(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime):
        return value.astimezone(get_timezone()) if value.tzinfo else value.replace(tzinfo=UTC).astimezone(get_timezone())
    return value


def local_time(value: datetime | None, style: str = "short") -> str:
    """Date and time in the reader's locale and the shop's time zone ("6.12.2026 klo 3.17")."""
    if value is None:
        return "–"
    pattern = DATETIME_PATTERNS[reader_language()] if style == "short" else style
    return babel_dates.format_datetime(_in_zone(value), pattern, locale=format_locale())


def local_date(value: datetime | date | str | None, style: str = "long") -> str:
    """A date (or an ISO date string) in the reader's locale ("6.12.2026" medium, "6. joulukuuta 2026" long)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    pattern = DATE_PATTERNS.get(reader_language(), {}).get(style, style)
    return babel_dates.format_date(_in_zone(value), pattern, locale=format_locale())


def _clock(value: datetime) -> str:
    """Time of day in the reader's locale (17.00 in Finnish and Finland Swedish, 17:00 in English)."""
    return babel_dates.format_time(_in_zone(value), "short", locale=format_locale())


def hour_of_day(value: str) -> str:
    """A stored opening time ("09:00") in the reader's locale ("9.00" in Finnish); anything else as it is."""
    try:
        parsed = time.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return babel_dates.format_time(parsed, "short", locale=format_locale())


def weekday_clock(value: datetime) -> str:
    """Weekday and time, e.g. "maanantai 9.00"."""
    return f"{babel_dates.format_datetime(_in_zone(value), 'EEEE', locale=format_locale())} {_clock(value)}"


def decimal(value: float | None, digits: int = 2) -> str:
    """A number in the reader's locale with at most ``digits`` decimals ("1 234,5" in Finnish)."""
    if value is None:
        return "–"
    return babel_numbers.format_decimal(value, "#,##0." + "#" * digits if digits else "#,##0",
                                        locale=format_locale())


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage with the locale's own spacing ("43,8 %" in Finnish, "43.8%" in English)."""
    if value is None:
        return "–"
    pattern = Locale.parse(format_locale()).percent_formats[None].pattern
    if digits:
        pattern = pattern.replace("0", "0." + "#" * digits, 1) if "0." not in pattern else pattern
    return babel_numbers.format_percent(value, pattern, locale=format_locale())


TRACKING_URLS = {
    "posti": "https://www.posti.fi/fi/seuranta#/lahetys/{code}",
    "matkahuolto": "https://www.matkahuolto.fi/seuranta?parcelNumber={code}",
    "db schenker": "https://www.dbschenker.com/app/tracking-public/?refNumber={code}",
}


def _money(cents: int) -> str:
    """Euros in the reader's locale: 1 234,50 € in Finnish."""
    return babel_numbers.format_currency(cents / 100, "EUR", locale=format_locale())


def _score(value: float) -> str:
    """A similarity score with two decimals in the reader's locale (0,42 in Finnish)."""
    return babel_numbers.format_decimal(value, format="0.00", locale=format_locale())


def _vat_percent(basis_points: int) -> str:
    """A VAT rate stored in basis points, with the percent sign ("25,5 %" in Finnish)."""
    return percent(basis_points / 10_000)


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
    app.add_template_filter(article_html, "article_html")
    app.add_template_filter(article_excerpt, "article_excerpt")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(code_label, "label")
    app.add_template_filter(decimal, "decimal")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(_clock, "clock")
    app.add_template_filter(_money, "money")
    app.add_template_filter(_vat_percent, "vat_percent")
    app.add_template_filter(_score, "score")
    app.add_template_filter(_tracking_url, "tracking_url")
    app.add_template_filter(_local_day, "local_day")
    app.add_template_filter(weekday_clock, "weekday_clock")
    app.add_template_filter(hour_of_day, "hour_of_day")
    from kb.web.message_format import message_html

    app.add_template_filter(message_html, "message_html")
