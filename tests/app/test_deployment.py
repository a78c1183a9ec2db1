"""The deployment of docs/deployment.md: gunicorn with deploy/gunicorn.conf.py and several workers,
and the app behind a reverse proxy (issue 7)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.fixtures.multinode_helpers import (
    DELIVERY,
    GIFT_CARDS,
    Node,
    publish,
)

ROOT = Path(__file__).resolve().parents[2]


def _slugs(port: int, query: str) -> list[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/search?q={query}", timeout=10) as response:
        return [hit["slug"] for hit in json.load(response)["results"]]


def _every_worker(port: int, query: str, expected: list[str], in_a_row: int = 12) -> bool:
    """True once ``in_a_row`` requests in a row (spread over the workers) answer ``expected``."""
    return all(_slugs(port, query) == expected for _ in range(in_a_row))


def test_gunicorn_workers_find_articles_saved_on_another_server(node: Node, shared_database: str,
                                                                tmp_path: Path) -> None:
    a, b = node("a"), node("b")
    publish(a, DELIVERY)
    port = _free_port()
    env = {**os.environ, "NEUVO_INSTANCE_PATH": a.instance_path, "NEUVO_DATABASE_URL": shared_database,
           "NEUVO_SECRET_KEY": "test-secret", "NEUVO_MAIL_BASE_URL": "https://apu.tupa.example",
           "NEUVO_TRUSTED_HOSTS": "127.0.0.1",
           "NEUVO_INDEX_SYNC_SECONDS": "1", "NEUVO_RATELIMIT_ENABLED": "false"}
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                               "--bind", f"127.0.0.1:{port}", "--workers", "3", "kb:create_app()"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: _answers(port), timeout=60), (tmp_path / "gunicorn.log").read_text()
        assert _every_worker(port, "toimitusajat", ["toimitusajat"])
        publish(b, GIFT_CARDS)
        assert wait_for(lambda: _every_worker(port, "lahjakortti", ["lahjakortit"]), timeout=60)
        publish(b, dict(GIFT_CARDS, status="draft"))
        assert wait_for(lambda: _every_worker(port, "lahjakortti", []), timeout=60)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        log.close()
    assert "Traceback" not in (tmp_path / "gunicorn.log").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        _slugs(port, "x")
        return True
    except OSError:
        return False


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_the_proxy_rate_limits_count_each_client(node: Node, proxies: int) -> None:
    """nginx appends the client's address to X-Forwarded-For; with NEUVO_TRUSTED_PROXIES=1 the app
    counts that address (and only it: what a client sends itself is ignored)."""
    client = node("a", RATELIMIT_ENABLED=True, SEARCH_RATE_LIMIT="3 per minute",
                  TRUSTED_PROXIES=proxies).test_client()

    def status(forwarded_for: str) -> int:
        return client.get("/api/v1/search", query_string={"q": "toimitus"},
                          headers={"X-Forwarded-For": forwarded_for},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code

    assert [status("198.51.100.7") for _ in range(3)] == [200, 200, 200]
    assert status("198.51.100.7") == 429
    assert status("203.0.113.9, 198.51.100.7") == 429  # a client naming another address itself
    # Another customer: counted apart only when the proxy is trusted; else all share the proxy's count.
    assert status("198.51.100.8") == (200 if proxies else 429)


def test_static_urls_carry_a_version_of_their_content(app, client, tmp_path) -> None:
    """nginx caches /static/ for a year: a changed file must get a new URL, an unchanged one keep its own."""
    import hashlib
    import re

    html = client.get("/fi/").get_data(as_text=True)
    links = re.findall(r'/static/([\w./-]+)\?v=([0-9a-f]{12})"', html)
    assert links, "the home page links no versioned static file"
    static = Path(app.static_folder)
    for filename, version in links:
        assert version == hashlib.sha256((static / filename).read_bytes()).hexdigest()[:12]
    with app.test_request_context():
        from flask import url_for

        assert "?v=" not in url_for("static", filename="no-such-file.css")  # nothing to version
        assert "?v=" not in url_for("static", filename="../pyproject.toml")  # never outside the folder
    with client.get(f"/static/{links[0][0]}?v={links[0][1]}") as served:
        assert served.status_code == 200
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "expires 1y" in nginx and "immutable" in nginx
