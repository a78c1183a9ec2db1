"""A full disk under the search index (INDEX_PATH on a small tmpfs) while gunicorn serves.

Publishing an article keeps it in the database; the site answers (search stale or
"temporarily unavailable", never a 500); ``neuvo reindex`` says the disk is full; once
space is freed the index catches up and equals the database. Needs permission to mount
a tmpfs (root here, and in CI); skipped with the reason where mounting is refused.
"""
from __future__ import annotations

import errno
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fixtures.servers import Gunicorn, Instance, gunicorn, wait_until
from tests.stress.checks import assert_index_matches_database, rows, scalar
from tests.stress.web import Browser

EDITOR, STAFF_PASSWORD = "editor@tupa.example", "demo-tupa-2026"
UNAVAILABLE_NOTICE = 'class="notice" role="alert"'


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 32 MiB tmpfs mounted for the module."""
    mount = tmp_path_factory.mktemp("small-disk")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for the disk-full test here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="module")
def site_on_small_disk(small_disk: Path, demo_copies, tmp_path_factory) -> Iterator[tuple[Instance, Gunicorn]]:
    instance = demo_copies.make("sqlite", tmp_path_factory.mktemp("disk-full") / "instance")
    shutil.copytree(instance.index_path, small_disk / "index")  # the index moves to the small disk
    instance = instance.with_settings(NEUVO_INDEX_PATH=str(small_disk / "index"))
    with gunicorn(instance, workers=1, env={"NEUVO_RATELIMIT_ENABLED": "false"}) as server:
        yield instance, server


def fill(folder: Path) -> Path:
    """Write a file into ``folder`` until the file system has no space left."""
    filler = folder / "filler"
    chunk = b"\0" * (1 << 16)
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    for size in (1 << 12, 1 << 9, 1):  # the last blocks too
        try:
            with filler.open("ab", buffering=0) as handle:
                while True:
                    handle.write(b"\0" * size)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    return filler


def _publish_in_editor(editor: Browser, instance: Instance, title: str, slug: str) -> int:
    """Create a draft and publish it through the editor's forms; returns the status of the publish."""
    new = editor.get("/editor/articles/new")
    assert new.status == 200
    category = scalar(instance, "SELECT min(id) FROM categories")
    saved = editor.post("/editor/articles/new", {
        "csrf_token": new.hidden("csrf_token"), "title": title, "slug": slug, "language": "fi",
        "category_id": str(category), "tags": "", "translation_of_id": "",
        "body": "Kun levy on täynnä, artikkeli tallentuu silti tietokantaan."})
    assert saved.status in (302, 503), saved.status
    article_id = scalar(instance, "SELECT id FROM articles WHERE slug = :s", s=slug)
    page = editor.get(f"/editor/articles/{article_id}")
    published = editor.post(f"/editor/articles/{article_id}/status", {
        "csrf_token": page.hidden("csrf_token"), "updated_at": page.hidden("updated_at"), "action": "publish"})
    return published.status


def _search(server: Gunicorn, title: str) -> tuple[int, str]:
    with Browser(server.base_url) as visitor:
        page = visitor.get(f"/fi/search?q={quote(title)}")
        return page.status, page.text


def test_full_disk_keeps_the_article_the_site_answers_and_the_index_catches_up(site_on_small_disk,
                                                                               small_disk: Path) -> None:
    instance, server = site_on_small_disk
    filler = fill(small_disk)
    try:
        with Browser(server.base_url) as editor:
            editor.log_in(EDITOR, STAFF_PASSWORD)
            status = _publish_in_editor(editor, instance, "Levy täynnä julkaisu", "levy-taynna-julkaisu")
        assert status == 302, f"publishing on a full disk answered {status}"  # committed: no error after it
        assert rows(instance, "SELECT status FROM articles WHERE slug = 'levy-taynna-julkaisu'") == [("published",)]

        data = instance.path / "levy.jsonl"
        data.write_text(json.dumps({"slug": "levy-taynna-tuonti", "title": "Levy täynnä tuonti", "language": "fi",
                                    "category": "toimitus", "body": "Tuotu levyn ollessa täynnä."}) + "\n")
        imported = instance.neuvo("import", "articles", str(data), check=False)
        assert imported.returncode == 0, imported.stderr
        assert scalar(instance, "SELECT count(*) FROM articles WHERE slug = 'levy-taynna-tuonti'") == 1

        with Browser(server.base_url) as visitor:
            for path in ("/fi/", "/fi/a/levy-taynna-julkaisu", "/fi/a/levy-taynna-tuonti"):
                assert visitor.get(path).status == 200, path
            # the live index is still readable: search answers, without the new articles for now
            assert visitor.get(f"/fi/search?q={quote('Levy täynnä julkaisu')}").status == 200
            assert visitor.get("/api/v1/search?q=levy").status == 200

        reindex = instance.neuvo("reindex", check=False)
        assert reindex.returncode != 0
        assert "disk is full" in reindex.stderr and "Traceback" not in reindex.stderr, reindex.stderr
    finally:
        filler.unlink()

    def caught_up() -> bool:
        found = [_search(server, title) for title in ("Levy täynnä julkaisu", "Levy täynnä tuonti")]
        return all(status == 200 and f"/fi/a/{slug}" in text
                   for (status, text), slug in zip(found, ("levy-taynna-julkaisu", "levy-taynna-tuonti")))

    assert wait_until(caught_up, 60, 1), "the index did not catch up once space was freed"
    assert_index_matches_database(instance)
    assert not [p for p in (small_disk / "index").iterdir() if p.name.startswith(".tmp-")]
