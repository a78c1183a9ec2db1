"""Template translations are looked up once per locale and request (kb/web/template_i18n.py, issue 16):
a locale forced for part of a request (a mail in its recipient's language) and a refreshed one
are followed at once."""
from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, refresh


def test_template_text_follows_a_forced_and_a_refreshed_locale_within_one_request(app) -> None:
    with app.test_request_context("/sv/"):
        before = render_template_string("{{ _('Help center') }}")
        with force_locale("fi"):
            forced = render_template_string("{{ _('Help center') }} {{ ngettext('%(num)d article', '%(num)d articles', 2) }}")
        after = render_template_string("{{ _('Help center') }}")
        from flask import request

        request.view_args["lang"] = "en"
        refresh()
        refreshed = render_template_string("{{ _('Help center') }}")
    assert (before, forced, after, refreshed) == ("Hjälpcenter", "Ohjekeskus 2 artikkelia", "Hjälpcenter", "Help center")
