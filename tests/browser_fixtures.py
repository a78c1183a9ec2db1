"""Real Chromium (Debian's package) through Playwright against a live server on the demo shop:
the fixtures ``chromium_path``, ``live_server`` and ``page`` (registered for every test module in
tests/conftest.py) and the browser's log-in."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("NEUVO_REQUIRE_BROWSER"):
            pytest.fail("chromium is required (NEUVO_REQUIRE_BROWSER) but not installed")
        pytest.skip("chromium not installed")
    return path


@pytest.fixture
def live_server(demo_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def cut_off(text: str) -> bool:
    """A request the browser dropped because the test navigated on (not an error of the app)."""
    return text.startswith("Failed to load resource: net::") and "status of" not in text


@pytest.fixture
def page(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        context = browser.new_context(locale="fi-FI")
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not cut_off(m.text) else None)
        yield page
        page.wait_for_load_state("networkidle")
        browser.close()
        assert errors == [], errors


def browser_log_in(page, base: str, email: str, password: str) -> None:
    """Log in through the log-in form, as a person would."""
    page.goto(base + "/auth/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action='/auth/login'] button[type=submit]").click()
    page.wait_for_load_state()
