"""The `neuvo` commands, run for real (CliRunner in-process, and the installed script)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from kb.db import session
from kb.models import Article, Role, User
from tests.support.cli_helpers import run_neuvo, write_jsonl
from tests.conftest import both_backends

ARTICLES = [
    {"slug": "toimitusajat", "title": "Toimitusajat", "body": "Toimitamme **1–3** arkipäivässä.",
     "language": "fi", "category": "Toimitus", "tags": ["toimitus", "posti"]},
    {"slug": "leveranstider", "title": "Leveranstider", "body": "Vi levererar inom 1–3 vardagar.",
     "language": "sv", "category": "Toimitus", "translation_of": "toimitusajat"},
    {"slug": "luonnos", "title": "Luonnos", "body": "Kesken.", "language": "fi", "category": "Toimitus",
     "status": "draft"},
]


def article_count(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count(Article.id)))


@both_backends
def test_import_articles_jsonl_upserts_and_indexes(app, runner, tmp_path: Path, backend: str) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", ARTICLES)
    result = runner.invoke(args=["import", "articles", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output
    with app.app_context():
        sv = session().scalar(select(Article).where(Article.slug == "leveranstider"))
        assert sv.original.slug == "toimitusajat" and sv.category.slug == "toimitus"
    assert app.test_client().get("/fi/search?q=toimitusajat").get_data(as_text=True).count("/fi/a/toimitusajat") >= 1
    assert "/fi/a/luonnos" not in app.test_client().get("/fi/search?q=luonnos").get_data(as_text=True)

    changed = [dict(ARTICLES[0], title="Toimitusajat ja -kulut")]
    result = runner.invoke(args=["import", "articles", str(write_jsonl(tmp_path / "b.jsonl", changed))])
    assert "0 new, 1 updated" in result.output
    assert article_count(app) == 3
    assert "Toimitusajat ja -kulut" in app.test_client().get("/fi/a/toimitusajat").get_data(as_text=True)


def test_import_articles_csv_with_comma_tags(app, runner, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('slug,title,body,language,category,tags\n'
                    'maksutavat,Maksutavat,"Kortit, verkkopankit",fi,maksaminen,"maksu, kortti"\n', encoding="utf-8")
    result = runner.invoke(args=["import", "articles", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert session().scalar(select(Article.tags).where(Article.slug == "maksutavat")) == ["maksu", "kortti"]


BAD_ROWS = [
    ({"slug": "x", "title": "X", "body": "b", "language": "de", "category": "c"}, "language"),
    ({"slug": "x", "title": "", "body": "b", "language": "fi", "category": "c"}, "title"),
    ({"slug": "Bad Slug", "title": "X", "body": "b", "language": "fi", "category": "c"}, "slug"),
    ({"slug": "x", "title": "X", "body": "b", "language": "fi", "category": "c", "colour": "red"}, "colour"),
    ({"slug": "x", "title": "X", "body": "b", "language": "fi", "category": "c", "status": "live"}, "status"),
    ({"slug": "x", "title": "X", "body": "b", "language": "fi", "category": "c", "tags": {"a": 1}}, "tags"),
    ({"slug": "x", "title": "X", "body": "b", "language": "fi", "category": "c", "translation_of": "nope"}, "translation_of"),
    ({"slug": "x", "title": ["X"], "body": "b", "language": "fi", "category": "c"}, "title"),
]


@both_backends
@pytest.mark.parametrize("bad,field", BAD_ROWS)
def test_bad_row_exits_2_naming_file_line_and_field_and_changes_nothing(app, runner, tmp_path: Path,
                                                                      bad: dict, field: str, backend: str) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [ARTICLES[0], bad])
    result = runner.invoke(args=["import", "articles", str(path)])
    assert result.exit_code == 2
    assert str(path) in result.output and f"'{field}'" in result.output
    if field != "translation_of":
        assert ":2:" in result.output
    assert article_count(app) == 0


@pytest.mark.parametrize("content,message", [
    ('{"slug": "x"\n', "not valid JSON"),
    ('[1, 2]\n', "JSON object"),
    (b"\xff\xfe bad".decode("latin-1"), "UTF-8"),
])
def test_malformed_files_exit_2(app, runner, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(content.encode("latin-1") if "UTF-8" in message else content.encode())
    result = runner.invoke(args=["import", "articles", str(path)])
    assert result.exit_code == 2 and message in result.output


def test_missing_file_and_unknown_type_exit_2(app, runner, tmp_path: Path) -> None:
    assert runner.invoke(args=["import", "articles", str(tmp_path / "nope.jsonl")]).exit_code == 2
    other = tmp_path / "a.xml"
    other.write_text("<a/>")
    result = runner.invoke(args=["import", "articles", str(other)])
    assert result.exit_code == 2 and "unknown file type" in result.output


def test_duplicate_slug_in_file_is_refused(app, runner, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [ARTICLES[0], ARTICLES[0]])
    result = runner.invoke(args=["import", "articles", str(path)])
    assert result.exit_code == 2 and "twice" in result.output
    assert article_count(app) == 0


def test_user_add_with_password_from_stdin(app, runner) -> None:
    result = runner.invoke(args=["user", "add", "Editor@Tupa.Example", "--role", "editor", "--password-stdin"],
                           input="pitkä-salasana-123\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = session().scalar(select(User))
        assert user.email == "Editor@tupa.example" and user.role is Role.EDITOR
        assert user.password_hash.startswith("$argon2id$")
    again = runner.invoke(args=["user", "add", "editor@tupa.example", "--role", "agent", "--password-stdin"],
                          input="pitkä-salasana-123\n")
    assert again.exit_code == 2 and "already exists" in again.output


@pytest.mark.parametrize("email,password,message", [("not-an-email", "pitkä-salasana-123", "e-mail"),
                                                    ("a@b.fi", "short", "at least")])
def test_user_add_refuses_bad_input(app, runner, email: str, password: str, message: str) -> None:
    result = runner.invoke(args=["user", "add", email, "--role", "agent", "--password-stdin"], input=password + "\n")
    assert result.exit_code == 2 and message in result.output


def test_reindex_rebuilds_a_deleted_index(app, runner, create_article, client) -> None:
    create_article(slug="palautukset", title="Palautukset", body="Palautusoikeus on 14 päivää.")
    shutil.rmtree(app.config["INDEX_PATH"])
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "Indexed 1" in result.output
    assert "/fi/a/palautukset" in client.get("/fi/search?q=palautus").get_data(as_text=True)


def test_corrupt_index_is_rebuilt_on_first_search(app, create_article, client) -> None:
    create_article(slug="palautukset", title="Palautukset", body="Palautusoikeus on 14 päivää.")
    index_dir = Path(app.config["INDEX_PATH"])
    for f in index_dir.rglob("*"):
        if f.is_file():
            f.write_bytes(b"garbage")
    html = client.get("/fi/search?q=palautus").get_data(as_text=True)
    assert "/fi/a/palautukset" in html


def test_demo_refuses_to_mix_into_a_shops_own_content(app, runner, create_article) -> None:
    create_article()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 2 and "--reset" in result.output
    assert article_count(app) == 1


@pytest.mark.timeout(600)  # five runs of the installed script, two of them loading the demo shop
def test_installed_script_init_twice_demo_and_reset(tmp_path: Path, new_database) -> None:
    instance = tmp_path / "inst"
    url = new_database(instance, migrated=False)
    first = run_neuvo(instance, "init", database_url=url)
    assert first.returncode == 0, first.stderr
    second = run_neuvo(instance, "init", database_url=url)
    assert second.returncode == 0 and "unchanged" in second.stdout
    demo = run_neuvo(instance, "demo", database_url=url)
    assert demo.returncode == 0, demo.stderr
    again = run_neuvo(instance, "demo", database_url=url)
    assert again.returncode == 0 and "already loaded" in again.stdout
    reset = run_neuvo(instance, "demo", "--reset", database_url=url)
    assert reset.returncode == 0, reset.stderr
    assert (instance / "index").is_dir()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count(Article.id))).scalar() > 0
    engine.dispose()


def test_every_command_is_documented_in_the_readme(app) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")

    def walk(group, prefix):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from walk(command, f"{prefix} {name}")
            else:
                yield f"{prefix} {name}"

    missing = [c for c in walk(app.cli, "neuvo") if c not in readme]
    assert missing == []
