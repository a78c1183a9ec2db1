"""What editors write shows to readers as written: code blocks render, and an image that the site's
Content-Security-Policy would block is refused at save with a message saying why."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from kb.db import commit, session
from kb.models import Article, Category
from kb.services.editorial.article_images import blocked_images, img_src_of
from kb.services.helpcenter.markdown_render import render_markdown
from tests.support.editor_helpers import token


def test_fenced_code_blocks_render_as_code() -> None:
    rendered = str(render_markdown("Aja komento:\n\n```bash\nneuvo init && neuvo demo\n```\n\nValmis."))
    assert "<pre><code" in rendered and "neuvo init &amp;&amp; neuvo demo" in rendered and "```" not in rendered


def test_img_src_follows_the_policy() -> None:
    assert img_src_of("default-src 'self'; img-src 'self' data:; script-src 'self'") == "'self' data:"
    assert img_src_of("default-src 'self'") == "'self'"
    text = "![a](/static/favicon.svg) ![b](https://cdn.example/b.png) ![c](http://evil.example/c.png)"
    assert blocked_images(text, "'self' data:") == ["https://cdn.example/b.png", "http://evil.example/c.png"]
    assert blocked_images(text, "'self' https://cdn.example") == ["http://evil.example/c.png"]
    assert blocked_images(text, "'self' https:") == ["http://evil.example/c.png"]


@pytest.fixture
def category(app) -> int:
    with app.app_context():
        cat = Category(slug="toimitus", position=10, names={"fi": "Toimitus", "sv": "Leverans", "en": "Delivery"})
        session().add(cat)
        commit()
        return cat.id


def _new(editor, category: int, body: str, language: str = "en"):
    with editor.session_transaction() as flask_session:
        flask_session["lang"] = language  # the editor's chosen UI language
    return editor.post("/editor/articles/new", data={
        "csrf_token": token(editor, "/editor/articles/new"), "title": "Noutopisteet", "body": body, "language": "fi",
        "category_id": str(category), "slug": "", "tags": ""}, headers={"Accept-Language": language})


def test_an_image_the_policy_blocks_is_refused_at_save(app, editor, category) -> None:
    body = "Katso kartta:\n\n![Kartta](https://maps.example.com/kartta.png)"
    response = _new(editor, category, body)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "https://maps.example.com/kartta.png" in page and "security policy" in page
    assert body in page  # what the editor wrote is kept in the form
    with app.app_context():
        assert session().scalars(select(Article)).all() == []
    assert _new(editor, category, "Katso kartta:\n\n![Kartta](/static/favicon.svg)").status_code == 302


def test_the_refusal_is_translated(app, editor, category) -> None:
    from tests.conftest import translated

    page = html.unescape(_new(editor, category, "![x](https://maps.example.com/x.png)", "fi").get_data(as_text=True))
    expected = translated(app, "Readers' browsers would not show the image %(url)s: the site's security policy allows "
                               "only images stored on this site. Save the image on this site and link to it there.",
                          "fi", url="https://maps.example.com/x.png")
    assert expected in page and "security policy" not in page
