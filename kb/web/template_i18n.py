"""Template translations looked up once per locale and request, not once per string.

Flask-Babel's template ``_()`` finds the request's locale and translation catalogue
anew for every string (several context-local lookups each); a help-center page
translates about fifty strings. This keeps the catalogue on Flask-Babel's own
per-request namespace, next to the locale it belongs to, and looks again whenever
that locale object changes (``force_locale`` for a mail in the recipient's
language, ``refresh()`` after a user changes language), so the text is exactly
what Flask-Babel's own callables give.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_translations


def _translations() -> Any:
    ns = g.get("_flask_babel") if g else None
    if ns is None:
        return get_translations()
    locale, domain = getattr(ns, "babel_locale", None), getattr(ns, "babel_domain", None)
    memo = getattr(ns, "neuvo_translations", None)
    if memo is not None and locale is not None and memo[0] is locale and memo[1] is domain:
        return memo[2]
    translations = get_translations()  # sets ns.babel_locale when it was not known yet
    ns.neuvo_translations = (getattr(ns, "babel_locale", None), getattr(ns, "babel_domain", None), translations)
    return translations


def init_app(app: Flask) -> None:
    """Replace the template gettext callables that Flask-Babel installed (call after ``babel.init_app``)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
