"""README command 1 shows every capability working: `neuvo run` does the background jobs too, keeps
its secret key, and `neuvo demo` leaves the editors' suggested articles filled; the CLI shows only
Neuvo's commands; staff start on their own page after log-in; the shop's mail comes from its
customer-service address."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parseaddr
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from kb.db import commit, session, utcnow
from kb.models import OutgoingMail, Role
from kb.services.mail.queue import as_message
from kb.services.accounts.users import create_user
from tests.support.auth_helpers import log_in
from tests.conftest import wait_for
from tests.support.html_forms import csrf_token

NEUVO = shutil.which("neuvo", path=str(Path(sys.executable).parent)) or "neuvo"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def neuvo_run(app, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """README command 1's server (`neuvo run`) on ``app``'s instance and database, stopped with Ctrl+C."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUVO_")}
    env.update(NEUVO_INSTANCE_PATH=app.instance_path, NEUVO_DATABASE_URL=app.config["DATABASE_URL"],
               NEUVO_PASSWORD_HASH_TIME_COST="1", NEUVO_PASSWORD_HASH_MEMORY_COST="8192", PYTHONUNBUFFERED="1")
    # Ctrl+C as in a terminal, even when the suite itself runs as a background job (which starts with
    # SIGINT ignored, and a child inherits that)
    process = subprocess.Popen([NEUVO, "run", "--port", str(port), *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(base + "/favicon.ico", timeout=5).status_code < 500
        except requests.RequestException:  # not listening yet, or still loading the app
            return False

    try:
        assert wait_for(up, timeout=60), process.communicate(timeout=5)[0] if process.poll() is not None else ""
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
        if process.stdout is not None and not process.stdout.closed:
            process.stdout.close()


def stop(process: subprocess.Popen) -> str:
    """Ctrl+C, as a developer stops the server; returns everything it printed."""
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    return output


def sign_up(base: str, email: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(base + "/auth/signup", timeout=10)
    return browser.post(base + "/auth/signup", timeout=30, allow_redirects=False, data={
        "csrf_token": csrf_token(page.text), "name": "", "email": email, "password": PASSWORD,
        "confirm": PASSWORD, "language": "fi"})


def refresh_finished(app) -> bool:
    from kb.services.editorial.suggestion_runs import refresh_state

    with app.app_context():
        state = refresh_state(session())
        session().rollback()
    return state.requested_at is not None and not state.pending and not state.unfinished


def test_neuvo_run_delivers_mail_to_the_outbox_and_stops_its_jobs_with_the_server(app, make_staff) -> None:
    from tests.support.editor_helpers import PASSWORD as EDITOR_PASSWORD

    outbox = Path(app.instance_path) / "outbox"
    editor = make_staff(Role.EDITOR)
    with neuvo_run(app, "--jobs-interval", "0.2") as (base, process):
        assert sign_up(base, "uusi.asiakas@example.fi").status_code == 302
        assert wait_for(lambda: any(outbox.glob("*.eml")), timeout=30), "no mail in instance/outbox"
        # the editor's "Refresh now" is done by the server's own jobs, not left pending
        browser = requests.Session()
        page = browser.get(base + "/auth/login", timeout=10)
        browser.post(base + "/auth/login", timeout=30, data={
            "csrf_token": csrf_token(page.text), "email": editor, "password": EDITOR_PASSWORD})
        page = browser.get(base + "/editor/suggestions", timeout=10)
        assert browser.post(base + "/editor/suggestions/refresh", timeout=10, allow_redirects=False,
                            data={"csrf_token": csrf_token(page.text)}).status_code == 302
        assert wait_for(lambda: refresh_finished(app), timeout=60), "the refresh stayed pending"
        output = stop(process)
    assert process.returncode == 0, output
    # the jobs thread ended before the process did (it is not left behind running jobs)
    assert "Background jobs stopped" in output, output
    [mail] = [p.read_text(encoding="utf-8", errors="replace") for p in outbox.glob("*.eml")]
    assert "uusi.asiakas@example.fi" in mail


def test_neuvo_run_keeps_its_secret_key_so_a_restart_keeps_people_logged_in(app) -> None:
    with app.app_context():
        create_user(session(), "aino@example.com", role=Role.CUSTOMER, password=PASSWORD, now=utcnow())
        commit()
    browser = requests.Session()
    with neuvo_run(app, "--no-jobs") as (base, process):
        page = browser.get(base + "/auth/login", timeout=10)
        r = browser.post(base + "/auth/login", timeout=30, allow_redirects=False, data={
            "csrf_token": csrf_token(page.text), "email": "aino@example.com", "password": PASSWORD})
        assert r.status_code == 302
        assert browser.get(base + "/auth/profile", allow_redirects=False, timeout=10).status_code == 200
        stop(process)
    key_file = Path(app.instance_path) / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with neuvo_run(app, "--no-jobs") as (base, process):
        assert browser.get(base + "/auth/profile", allow_redirects=False, timeout=10).status_code == 200
        stop(process)


def test_with_the_reloader_only_the_serving_process_runs_the_jobs(app) -> None:
    with neuvo_run(app, "--reload", "--jobs-interval", "0.2") as (base, process):
        assert sign_up(base, "toinen@example.fi").status_code == 302
        outbox = Path(app.instance_path) / "outbox"
        assert wait_for(lambda: any(outbox.glob("*.eml")), timeout=30)
        output = stop(process)
    assert output.count("Background jobs (") == 1, output  # started once: not in the file watcher too


def test_neuvo_help_shows_only_neuvos_commands_and_run_names_its_port(tmp_path: Path, monkeypatch) -> None:
    from kb.cli import COMMANDS, main

    monkeypatch.setenv("NEUVO_INSTANCE_PATH", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:", 1)[1].split()
    for name in ("routes", "shell", "limiter"):
        assert name not in listed
    for option in ("--app", "--env-file", "--debug"):
        assert option not in result.output
    assert {c.name for c in COMMANDS} <= set(listed)
    assert CliRunner().invoke(main, ["routes"]).exit_code == 2
    run_help = CliRunner().invoke(main, ["run", "--help"]).output
    assert "--port" in run_help and "--host" in run_help


@pytest.mark.semantic  # README command 1: the product's default, encoder included
def test_demo_leaves_the_editors_suggested_articles_filled(app, runner, client, make_staff) -> None:
    from tests.support.editor_helpers import PASSWORD as EDITOR_PASSWORD

    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    email = make_staff(Role.EDITOR, "toinen.editori@tupa.example")
    assert log_in(client, email, EDITOR_PASSWORD).status_code == 302
    html = client.get("/editor/suggestions").get_data(as_text=True)
    assert html.count('class="panel topic"') >= 3, html[:3000]


# ---------- staff land on their own start page

@pytest.mark.parametrize(("role", "start"), [
    (Role.AGENT, "/agent/"), (Role.EDITOR, "/editor/"), (Role.MANAGER, "/admin/dashboard"),
    (Role.ADMIN, "/admin/dashboard"), (Role.CUSTOMER, "/tili/tilaukset")])
def test_after_log_in_each_role_lands_on_its_own_start_page(app, client, role: Role, start: str) -> None:
    with app.app_context():
        create_user(session(), "kayttaja@tupa.example", role=role, password=PASSWORD, now=utcnow())
        commit()
    r = log_in(client, "kayttaja@tupa.example", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == start


def test_a_safe_next_still_wins_over_the_start_page(app, client) -> None:
    with app.app_context():
        create_user(session(), "agentti@tupa.example", role=Role.AGENT, password=PASSWORD, now=utcnow())
        commit()
    r = log_in(client, "agentti@tupa.example", PASSWORD, next_url="/auth/profile")
    assert r.headers["Location"] == "/auth/profile"
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/auth/profile").get_data(as_text=True))})
    r = log_in(client, "agentti@tupa.example", PASSWORD, next_url="//evil.example/")
    assert r.headers["Location"] == "/agent/"


# ---------- the shop's mail comes from its customer-service address

def test_every_queued_mail_kind_comes_from_and_is_answered_to_the_shops_address(demo_app, demo_client) -> None:
    """Contact confirmation, agent reply, survey, sign-up, password reset and invitation."""
    from kb.services.shop.demo import DEMO_STAFF_PASSWORD

    page = demo_client.get("/yhteydenotto").get_data(as_text=True)
    assert demo_client.post("/yhteydenotto", data={
        "csrf_token": csrf_token(page), "inquiry_type": "delivery", "name": "Aino", "email": "aino.demo@example.com",
        "subject": "Paketti ei ole saapunut", "message": "Missä pakettini on? Tilasin viikko sitten.",
        "website": ""}).status_code == 302
    other = demo_app.test_client()
    assert sign_up_client(other, "uusi@example.fi").status_code == 302
    reset = other.get("/auth/reset").get_data(as_text=True)
    other.post("/auth/reset", data={"csrf_token": csrf_token(reset), "email": "aino.virtanen@example.com"})
    agent = demo_app.test_client()
    assert log_in(agent, "agent@tupa.example", DEMO_STAFF_PASSWORD).status_code == 302
    with demo_app.app_context():
        from kb.models import Ticket

        ticket = session().scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
        ticket_id = ticket.id
    html = agent.get(f"/agent/tickets/{ticket_id}").get_data(as_text=True)
    form = html.split('class="stack reply-form"', 1)[1]
    version = form.split('name="version" value="', 1)[1].split('"', 1)[0]
    assert agent.post(f"/agent/tickets/{ticket_id}/reply", data={
        "csrf_token": csrf_token(html), "version": version, "linked": "", "body": "Paketti on matkalla.",
        "status_after": "solved"}).status_code == 302
    with demo_app.app_context():
        from kb.mailing.account_requests import handle_account_requests

        handle_account_requests()  # the worker makes the reset link after the request's answer
        rows = list(session().scalars(select(OutgoingMail).order_by(OutgoingMail.id)))
        messages = {row.kind: as_message(row) for row in rows}
    assert {"confirmation", "reply", "survey", "welcome", "reset"} <= set(messages), set(messages)
    for kind, message in messages.items():
        assert parseaddr(message["From"])[1] == "asiakaspalvelu@tupa.example", kind
        assert parseaddr(message["Reply-To"])[1] == "asiakaspalvelu@tupa.example", kind
        assert "no-reply" not in str(message), kind


def sign_up_client(client, email: str):
    page = client.get("/auth/signup").get_data(as_text=True)
    return client.post("/auth/signup", data={"csrf_token": csrf_token(page), "name": "", "email": email,
                                             "password": PASSWORD, "confirm": PASSWORD, "language": "fi"})
