"""Helpers shared by the editor tests (tests/editorial/test_editor_articles.py, tests/editorial/test_editor_suggestions.py)."""
from __future__ import annotations

import re

from kb.db import session
from kb.models import Article
from tests.support.auth_helpers import csrf_of


PASSWORD = "editor password 2026"


def token(client, url: str = "/editor/articles") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return csrf_of(response.get_data(as_text=True))


def edit_form(client, article_id: int) -> dict[str, str]:
    """The edit form's current field values, as a browser would submit them."""
    html = client.get(f"/editor/articles/{article_id}").get_data(as_text=True)
    form = html.split('class="editor-form"', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"\s*selected', options)
        values[name] = chosen.group(1) if chosen else ""
    body = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', form, re.S).group(1)
    import html as html_lib
    values["body"] = html_lib.unescape(body)
    values = {k: html_lib.unescape(v) for k, v in values.items()}
    return values


def set_status(client, article_id: int, action: str):
    values = edit_form(client, article_id)
    return client.post(f"/editor/articles/{article_id}/status",
                       data={"csrf_token": values["csrf_token"], "updated_at": values["updated_at"], "action": action})


def get_article(app, article_id: int) -> Article:
    with app.app_context():
        return session().get(Article, article_id)
