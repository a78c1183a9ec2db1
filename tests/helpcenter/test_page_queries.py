"""Help-center pages ask the database a fixed, small number of questions (issue 16).

SQL statements are counted with an SQLAlchemy event listener while a page is served,
with 3 and with 20 articles in the category: a page that adds a query per article
(a lazy load in a loop, a per-row lookup) fails here.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event

from kb.db import database

#: The most statements each page may take however many articles there are (measured; a little headroom).
LIMITS = {"home": 8, "category": 7, "article": 8, "search": 8}


def make_articles(create_article, count: int) -> None:
    for n in range(count):
        create_article(slug=f"artikkeli-{n}", title=f"Toimitusohje numero {n}",
                       body=f"Toimitus **{n}** kestää *päiviä*. [Linkki](https://example.fi/{n})\n\n- yksi\n- kaksi",
                       category="toimitus", tags=["toimitus", f"tagi-{n % 3}"])


def count_statements(app, url: str, *, warm: bool = True) -> tuple[int, str]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = database(app).engine
    client = app.test_client(use_cookies=False)
    if warm:  # per-process lists filled, as on a live server
        assert client.get(url).status_code == 200
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, url
    return len(statements), "\n".join(statements)


PAGES = {"home": "/fi/", "category": "/fi/c/toimitus", "article": "/fi/a/artikkeli-1",
         "search": "/fi/search?q=toimitusohje"}


@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_takes_the_same_few_queries_for_3_or_20_articles(app, tmp_path, create_article, page: str) -> None:
    make_articles(create_article, 3)
    few, few_sql = count_statements(app, PAGES[page])
    make_articles(create_article, 20)
    many, many_sql = count_statements(app, PAGES[page])
    assert many == few, f"{few} statements with 3 articles, {many} with 20:\n{many_sql}"
    assert many <= LIMITS[page], many_sql


@pytest.mark.parametrize("page", ["home", "article"])
def test_lists_computed_afresh_after_a_save_take_no_query_per_article(app, create_article, page: str) -> None:
    """After a save (a new position in the change log) the most-read and related lists are computed
    again: still a fixed number of statements."""
    make_articles(create_article, 3)
    create_article(slug="uusi", title="Uusi toimitusohje", category="toimitus")  # moves the log on
    few, _ = count_statements(app, PAGES[page], warm=False)
    make_articles(create_article, 20)
    many, many_sql = count_statements(app, PAGES[page], warm=False)
    assert many == few, f"{few} statements with 3 articles, {many} with 20:\n{many_sql}"
