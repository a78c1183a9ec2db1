"""Article feedback "No": the reader is asked what was missing, the note reaches the editors'
article-health page, the thanks appear once, and the answers work with and without the page's script."""
from __future__ import annotations

import re

from sqlalchemy import select

from kb.db import session
from kb.models import ArticleFeedback
from tests.conftest import both_backends, translated
from tests.support.html_forms import csrf_token

FETCH = {"X-Requested-With": "fetch"}


def article_page(client, slug: str = "toimitusajat") -> str:
    return client.get(f"/fi/a/{slug}").get_data(as_text=True)


def feedback_section(html: str) -> str:
    return html.split('<section id="feedback"', 1)[1].split("</section>", 1)[0]


def answer(client, helpful: str, headers: dict | None = None):
    token = csrf_token(article_page(client))
    return client.post("/fi/a/toimitusajat/feedback", data={"helpful": helpful, "csrf_token": token},
                       headers=headers or {})


@both_backends
def test_no_asks_what_was_missing_and_the_note_reaches_the_editors(app, client, create_article, editor) -> None:
    article_id = create_article()
    reader = app.test_client()
    r = answer(reader, "no")
    assert r.status_code == 302 and r.headers["Location"].endswith("/fi/a/toimitusajat#feedback")
    html = article_page(reader)
    section = feedback_section(html)
    assert translated(app, "What was missing from the article?") in section
    assert 'name="comment"' in section and 'name="helpful"' not in section
    assert translated(app, "Thank you for your feedback!") not in html  # thanked once, at the end
    r = reader.post("/fi/a/toimitusajat/feedback/missing",
                    data={"comment": "Toimitusaika Ahvenanmaalle puuttuu", "csrf_token": csrf_token(html)})
    assert r.status_code == 302
    html = article_page(reader)
    assert html.count(translated(app, "Thank you for your feedback!")) == 1
    assert 'name="comment"' not in html
    with app.app_context():
        row = session().scalar(select(ArticleFeedback))
        assert (row.helpful, row.comment) == (False, "Toimitusaika Ahvenanmaalle puuttuu")
    health = editor.get(f"/editor/health/{article_id}").get_data(as_text=True)
    assert "<q>Toimitusaika Ahvenanmaalle puuttuu</q>" in health


def test_yes_thanks_once(app, client, create_article) -> None:
    create_article()
    answer(client, "yes")
    html = article_page(client)
    assert html.count(translated(app, "Thank you for your feedback!")) == 1
    assert 'name="comment"' not in html


def test_the_script_gets_the_section_alone(app, client, create_article) -> None:
    create_article()
    r = answer(client, "no", FETCH)
    fragment = r.get_data(as_text=True)
    assert r.status_code == 200 and fragment.lstrip().startswith("<section id=\"feedback\"")
    assert "<html" not in fragment and 'name="comment"' in fragment
    r = client.post("/fi/a/toimitusajat/feedback/missing", headers=FETCH,
                    data={"comment": "Hinnat", "csrf_token": csrf_token(fragment)})
    assert r.status_code == 200
    assert translated(app, "Thank you for your feedback!") in feedback_section(r.get_data(as_text=True))


def test_an_empty_note_is_refused_and_skip_just_thanks(app, client, create_article) -> None:
    create_article()
    answer(client, "no")
    html = article_page(client)
    r = client.post("/fi/a/toimitusajat/feedback/missing", data={"comment": "   ", "csrf_token": csrf_token(html)})
    assert r.status_code == 400 and 'id="comment-error"' in r.get_data(as_text=True)
    r = client.post("/fi/a/toimitusajat/feedback/missing", data={"skip": "1", "csrf_token": csrf_token(html)})
    assert r.status_code == 302
    assert translated(app, "Thank you for your feedback!") in feedback_section(article_page(client))
    with app.app_context():
        assert session().scalar(select(ArticleFeedback.comment)) == ""


def test_a_note_needs_a_no_of_ones_own(app, client, create_article) -> None:
    """Another visitor's, or a "yes" answer, cannot be given a note."""
    create_article()
    token = csrf_token(article_page(client))
    answer(client, "yes")
    client.post("/fi/a/toimitusajat/feedback/missing", data={"comment": "Roskaa", "csrf_token": token})
    other = client.application.test_client()
    other.post("/fi/a/toimitusajat/feedback/missing",
               data={"comment": "Roskaa", "csrf_token": csrf_token(article_page(other))})
    with app.app_context():
        assert [r.comment for r in session().scalars(select(ArticleFeedback))] == [""]
    assert not re.search(r"Roskaa", article_page(client))
