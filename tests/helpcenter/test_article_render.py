"""Articles rendered once at save (issue 16) and the text readers see (issue 15): excerpts and the
article API come from the sanitised HTML, never from the Markdown source."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from kb.db import commit, session, utcnow
from kb.models import Article
from kb.services.helpcenter.article_render import article_excerpt, refresh_renderings, rendering_key
from kb.services.helpcenter.markdown_render import RENDERER, excerpt, plain_text, render_markdown
from tests.support.html_safety import script_risks
from tests.support.xss_payloads import PAYLOADS

HIDDEN_BODY = (
    "<!-- luonnos: älä julkaise hintaa -->\n"
    "Verkkokaupasta ostaessasi sinulla on **14 päivän peruuttamisoikeus**. "
    "<script>alert('salainen')</script>Voit palauttaa tuotteen *ilman* syytä, "
    "kun tuote on [käyttämätön](https://example.fi/ehdot). "
    "Rahtina toimitettuihin tuotteisiin pätee sama oikeus kuin muihinkin tuotteisiin. Jatkoa seuraa tässä."
)


def stored(app, slug: str) -> Article:
    with app.app_context():
        return session().scalar(select(Article).where(Article.slug == slug))


def test_the_category_excerpt_is_the_text_readers_see(client, create_article) -> None:
    create_article(slug="peruuttamisoikeus", title="14 päivän peruuttamisoikeus", body=HIDDEN_BODY,
                   category="palautukset")
    page = client.get("/fi/c/palautukset").get_data(as_text=True)
    item = re.search(r'<p class="muted">(.*?)</p>', page, re.S).group(1)
    assert item.startswith("Verkkokaupasta ostaessasi sinulla on 14 päivän peruuttamisoikeus. Voit palauttaa")
    assert "salainen" not in page and "luonnos" not in page and "**" not in item
    assert not re.search(r"\s[.,:;!?]", item)  # never " ." before punctuation
    assert item.endswith("…") and "…" not in item[:-1] and not item[:-1].rstrip().endswith(".")


def test_the_meta_description_is_the_text_readers_see(client, create_article) -> None:
    create_article(slug="peruuttamisoikeus", body=HIDDEN_BODY, category="palautukset")
    page = client.get("/fi/a/peruuttamisoikeus").get_data(as_text=True)
    description = re.search(r'<meta name="description" content="([^"]*)"', page).group(1)
    assert description.startswith("Verkkokaupasta ostaessasi sinulla on 14 päivän peruuttamisoikeus. Voit")
    assert "salainen" not in description and "luonnos" not in description


@pytest.mark.parametrize("text,limit,expected", [
    ("Maksamme hyvityksen. Saat ilmoituksen, kun hyvitys on maksettu. Lisää", 63,
     "Maksamme hyvityksen. Saat ilmoituksen, kun hyvitys on maksettu…"),
    ("Palautus tehdään aina ensin palautussivulla... Rekisteröinti", 46, "Palautus tehdään aina ensin palautussivulla…"),
    ("Lyhyt teksti.", 160, "Lyhyt teksti."),
    ("Sana, toinen sana ja kolmas", 11, "Sana…"),
])
def test_an_excerpt_ends_in_one_ellipsis_at_a_word(text: str, limit: int, expected: str) -> None:
    assert excerpt(text, limit) == expected


def test_agent_excerpts_come_from_the_sanitised_text(app, create_article) -> None:
    """The agent's suggested answers (kb/services/inquiries/inbox.py) and subjects (replies) use the same text."""
    create_article(slug="peruuttamisoikeus", body=HIDDEN_BODY, category="palautukset")
    with app.app_context():
        article = session().scalar(select(Article).where(Article.slug == "peruuttamisoikeus"))
        text = article_excerpt(article, 200)
    assert "salainen" not in text and "luonnos" not in text and "<" not in text
    assert "peruuttamisoikeus. Voit palauttaa tuotteen ilman syytä, kun tuote on käyttämätön." in text
    assert "salainen" not in plain_text(HIDDEN_BODY) and " ." not in plain_text("Sana **lihavoitu**.")


def test_the_api_serves_what_readers_see_never_the_markdown(client, create_article) -> None:
    create_article(slug="peruuttamisoikeus", body=HIDDEN_BODY, category="palautukset")
    data = client.get("/api/v1/articles/peruuttamisoikeus").get_json()
    for field in ("body", "text"):
        assert "<!--" not in data[field] and "luonnos" not in data[field], field
        assert "**" not in data[field] and "](" not in data[field] and "salainen" not in data[field], field
        assert data[field].startswith("Verkkokaupasta ostaessasi sinulla on 14 päivän peruuttamisoikeus. Voit")
    assert data["html"] == str(render_markdown(HIDDEN_BODY))
    assert "<!--" not in data["html"] and "<script" not in data["html"]
    page = client.get("/fi/a/peruuttamisoikeus").get_data(as_text=True)
    assert data["html"] in page  # the same HTML as the article page


def test_the_openapi_file_describes_the_fields_the_api_returns(client, create_article) -> None:
    create_article(slug="peruuttamisoikeus", body=HIDDEN_BODY, category="palautukset")
    data = client.get("/api/v1/articles/peruuttamisoikeus").get_json()
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Article"]
    assert set(data) <= set(schema["properties"]) and set(schema["required"]) <= set(data)
    assert {"body", "text", "html"} <= set(schema["required"])
    assert schema["properties"]["body"]["description"].startswith("The plain text readers see")


def test_a_save_stores_the_sanitised_html_and_text(app, create_article) -> None:
    create_article(slug="ohje", body=HIDDEN_BODY)
    article = stored(app, "ohje")
    assert article.body_html == str(render_markdown(HIDDEN_BODY))
    assert article.body_text.startswith("Verkkokaupasta ostaessasi") and "salainen" not in article.body_text
    assert article.rendered_from == rendering_key(HIDDEN_BODY) and article.rendered_from.startswith(RENDERER)


@pytest.mark.parametrize("payload", PAYLOADS[:20])
def test_the_page_shows_the_same_sanitised_html_as_rendering_per_request(client, create_article, payload) -> None:
    body = f"Otsikko\n\n{payload}\n\nLoppu"
    create_article(slug="xss", body=body)
    page = client.get("/fi/a/xss").get_data(as_text=True)
    shown = re.search(r'<div class="article-body">(.*?)</div>\s*(?:\{#.*?#\}\s*)?<section id="feedback"', page, re.S).group(1)
    assert shown == str(render_markdown(body))
    assert script_risks(shown) == []


def test_a_rendering_from_another_renderer_or_body_is_never_served(app, client, create_article) -> None:
    create_article(slug="ohje", body="Vanha teksti.")
    with app.app_context():
        # another process (or an old release) changed the body without rendering it
        session().execute(update(Article).where(Article.slug == "ohje").values(body="Uusi **teksti**."))
        commit()
    assert "Uusi <strong>teksti</strong>." in client.get("/fi/a/ohje").get_data(as_text=True)
    assert client.get("/api/v1/articles/ohje").get_json()["text"] == "Uusi teksti."
    with app.app_context():
        session().execute(update(Article).where(Article.slug == "ohje")
                          .values(rendered_from="1/markdown-0/nh3-0#" + "0" * 20))
        commit()
        assert refresh_renderings(session()) == 1
        commit()
        assert refresh_renderings(session()) == 0
    article = stored(app, "ohje")
    assert article.body_html == "<p>Uusi <strong>teksti</strong>.</p>" and article.rendered_from == rendering_key(
        "Uusi **teksti**.")


def test_neuvo_reindex_renders_stale_articles_again(app, runner, create_article) -> None:
    create_article(slug="ohje", body="Teksti *tässä*.")
    with app.app_context():
        session().execute(update(Article).values(body_html=None, body_text=None, rendered_from=None))
        commit()
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Rendered 1 articles" in result.output
    assert stored(app, "ohje").body_html == "<p>Teksti <em>tässä</em>.</p>"


def test_the_editor_save_and_a_restored_revision_store_their_rendering(app, create_article) -> None:
    from kb.services.editorial import authoring as editorial

    create_article(slug="ohje", body="Ensimmäinen.")
    with app.app_context():
        db = session()
        article = db.scalar(select(Article).where(Article.slug == "ohje"))
        form = editorial.ArticleForm(title=article.title, body="Toinen *versio*.", language="fi",
                                     category_id=article.category_id, slug="ohje")
        editorial.update_article(db, article, form, expected=article.updated_at, by=None, now=utcnow())
        commit()
        assert article.body_html == "<p>Toinen <em>versio</em>.</p>" and article.body_text == "Toinen versio."
        first = editorial.revisions(db, article)[-1]
        editorial.restore_revision(db, article, first, expected=article.updated_at, by=None, now=utcnow())
        commit()
        assert article.body_html == "<p>Ensimmäinen.</p>" and article.body_text == "Ensimmäinen."
