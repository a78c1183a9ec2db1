"""A saved article is read with its new text at once on every app server and by every worker
(issue 16): renderings are stored with the article, and the per-process most-read and related
lists follow the change log. Nodes: tests/fixtures/multinode_helpers.py (their own instance folders,
one database)."""
from __future__ import annotations

import re

from tests.conftest import both_backends
from tests.fixtures.multinode_helpers import Node, article, publish


def page(app, url: str) -> str:
    response = app.test_client().get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


@both_backends
def test_a_saved_article_is_shown_with_its_new_text_by_another_server_at_once(node: Node, backend: str) -> None:
    a, b = node("a"), node("b")
    publish(a, article("lahjakortit", "Lahjakortit", "Lahjakortti on voimassa **vuoden**.", tags="lahja"),
            article("maksutavat", "Maksutavat", "Maksa kortilla.", tags="lahja"))
    # b has served every page once: its lists and anything it keeps are warm
    for url in ("/fi/", "/fi/a/lahjakortit", "/fi/a/maksutavat", "/fi/c/yleinen", "/api/v1/articles/lahjakortit"):
        page(b, url)

    publish(a, article("lahjakortit", "Lahjakortit ja koodit", "Alennuskoodi syötetään <em>kassalla</em>.",
                       tags="lahja"))
    shown = page(b, "/fi/a/lahjakortit")
    assert "Alennuskoodi syötetään <em>kassalla</em>." in shown and "voimassa" not in shown
    assert "<h1>Lahjakortit ja koodit</h1>" in shown
    assert "Lahjakortit ja koodit</a>" in page(b, "/fi/a/maksutavat")  # b's related list follows
    assert "Lahjakortit ja koodit</a>" in page(b, "/fi/")  # and its most-read list
    assert "Alennuskoodi syötetään kassalla." in page(b, "/fi/c/yleinen")
    assert b.test_client().get("/api/v1/articles/lahjakortit").get_json()["text"] == "Alennuskoodi syötetään kassalla."


@both_backends
def test_a_new_translation_and_an_unpublished_article_show_at_once_on_another_server(node: Node,
                                                                                   backend: str) -> None:
    a, b = node("a"), node("b")
    publish(a, article("lahjakortit", "Lahjakortit", "Lahjakortti.", tags="lahja"),
            article("maksutavat", "Maksutavat", "Maksa kortilla.", tags="lahja"))
    assert 'hreflang="sv"' not in page(b, "/fi/a/lahjakortit").split("</head>")[0]
    page(b, "/fi/a/maksutavat")

    publish(a, article("presentkort", "Presentkort", "Presentkortet gäller ett år.", language="sv",
                       translation_of="lahjakortit"),
            article("maksutavat", "Maksutavat", "Maksa kortilla.", tags="lahja", status="draft"))
    head = page(b, "/fi/a/lahjakortit").split("</head>")[0]
    assert re.search(r'hreflang="sv" href="/sv/a/presentkort"', head)
    assert "Maksutavat" not in page(b, "/fi/a/lahjakortit")  # no longer related: it is a draft
    assert b.test_client().get("/fi/a/maksutavat").status_code == 404


def test_two_workers_of_one_server_serve_the_saved_text_at_once(node: Node) -> None:
    """Two apps on one instance folder stand for two gunicorn workers of one server."""
    first, second = node("a"), node("a")
    publish(first, article("ohje", "Ohje", "Vanha *teksti*.", tags="x"), article("toinen", "Toinen", "T.", tags="x"))
    assert "Vanha <em>teksti</em>." in page(second, "/fi/a/ohje")
    page(second, "/fi/a/toinen")
    publish(first, article("ohje", "Ohje uusi", "Uusi *teksti*.", tags="x"))
    assert "Uusi <em>teksti</em>." in page(second, "/fi/a/ohje")
    assert "Ohje uusi</a>" in page(second, "/fi/a/toinen")
