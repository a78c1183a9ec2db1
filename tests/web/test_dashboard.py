"""The service dashboard: figures checked against hand-computed values from a small
fixture, the page and its CSV exports through the real log-in, the demo shop's
figures, roles (agents see only their own tickets) and bad periods."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.db import commit, session
from kb.models import (ArticleEvent, ArticleEventKind, ChannelKind, MessageKind, Role, SearchLog, SurveyResponse,
                       Ticket, TicketMessage, TicketStatus)
from kb.services.metrics import dashboard as metrics
from kb.services.shop.demo import DEMO_STAFF_PASSWORD
from kb.services.errors import InvalidInput
from tests.support.auth_helpers import create_account, log_in
from tests.conftest import both_backends

FIRST, LAST = "2026-03-02", "2026-03-08"
#: The fixture's period in UTC: Monday 2 March 00:00 up to Monday 9 March 00:00.
PERIOD = metrics.Period(datetime(2026, 3, 2, tzinfo=timezone.utc), datetime(2026, 3, 9, tzinfo=timezone.utc))
SCRIPT = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def figures(app, create_article):
    """Eight tickets (six in the period), replies, surveys, article events and searches.

    All times are UTC and away from midnight, so the days are the same in the
    shop's zone (Helsinki, UTC+2 in March) as in UTC.
    """
    article_id = create_article()
    agent1 = create_account(app, "agent1@example.fi", Role.AGENT)
    agent2 = create_account(app, "agent2@example.fi", Role.AGENT)
    create_account(app, "manager@example.fi", Role.MANAGER)
    with app.app_context():
        db = session()

        def ticket(ref, channel, created, *, kind="", first=None, solved=None, status=TicketStatus.OPEN,
                   assignee=None, replies=()):
            t = Ticket(external_id=ref, channel=ChannelKind(channel), language="fi", body=ref, created_at=created,
                       inquiry_type=kind, first_response_at=first, solved_at=solved, status=status,
                       assignee_id=assignee)
            db.add(t)
            db.flush()
            db.add(TicketMessage(ticket_id=t.id, kind=MessageKind.CUSTOMER, body="?", created_at=created))
            for when in replies:
                db.add(TicketMessage(ticket_id=t.id, kind=MessageKind.REPLY, body="!", created_at=when))
            return t

        # ref  channel  created       first response      solved             replies (before 9 March)
        a = ticket("A", "email", at(2, 10), kind="delivery", first=at(2, 10, 30), solved=at(2, 14),
                   status=TicketStatus.SOLVED, assignee=agent1, replies=[at(2, 10, 30), at(2, 13)])
        b = ticket("B", "chat", at(2, 12), kind="delivery", first=at(2, 12, 5), solved=at(2, 12, 20),
                   status=TicketStatus.CLOSED, assignee=agent1, replies=[at(2, 12, 5)])
        db.add_all([TicketMessage(ticket_id=b.id, kind=MessageKind.NOTE, body="note", created_at=at(2, 12, 6)),
                    TicketMessage(ticket_id=b.id, kind=MessageKind.AUTO, body="auto", created_at=at(2, 12, 1))])
        c = ticket("C", "form", at(3, 9), kind="returns", first=at(3, 11), solved=at(4, 9),
                   status=TicketStatus.SOLVED, assignee=agent2, replies=[at(3, 11), at(3, 15), at(4, 8)])
        d = ticket("D", "form", at(4, 8), kind="returns", first=at(4, 9), status=TicketStatus.WAITING,
                   assignee=agent2, replies=[at(4, 9)])
        # E: solved only after the period; its second reply too
        ticket("E", "email", at(5, 16), first=at(6, 16), solved=at(9, 16), status=TicketStatus.SOLVED,
               assignee=agent1, replies=[at(6, 16), at(9, 12)])
        ticket("F", "form", at(7, 20), kind="invoices", status=TicketStatus.NEW)
        # G: before the period, still open (backlog); H: after the period
        g = ticket("G", "email", at(1, 12), status=TicketStatus.OPEN)
        ticket("H", "form", at(10, 12), status=TicketStatus.NEW)

        def survey(n, t, answered, csat, ces):
            db.add(SurveyResponse(ticket_id=t.id, token_hash=f"{n:064d}", sent_at=t.created_at,
                                  answered_at=answered, csat=csat, ces=ces))

        survey(1, a, at(2, 15), 5, 6)
        survey(2, b, at(2, 13), 4, None)      # answered CSAT only
        survey(3, c, at(4, 10), 3, 4)
        survey(4, d, None, None, None)        # sent, never answered
        survey(5, g, at(1, 13), 1, 1)         # answered before the period

        for kind, when in [("deflected", at(2, 9)), ("deflected", at(3, 9)), ("deflected", at(6, 9)),
                           ("solved", at(4, 12)), ("deflected", at(10, 9))] + [("opened", at(5, 9))] * 5:
            db.add(ArticleEvent(article_id=article_id, kind=ArticleEventKind(kind), visitor="v", created_at=when))

        for query, results, when in [("palautus", 5, at(2, 9)), ("Palautus", 5, at(3, 9)), ("palautus", 4, at(4, 9)),
                                     ("lahjakortti", 0, at(5, 9)), ("lahjakortti", 0, at(6, 9)),
                                     (FORMULA, 0, at(6, 10)), (SCRIPT, 0, at(6, 11)), ("palautus", 5, at(10, 9))]:
            db.add(SearchLog(query=query, language="fi", category=None, result_count=results, visitor="v",
                             created_at=when))
        commit()
    return {"agent1": agent1, "agent2": agent2}


# ---------- the figures, computed by hand

@both_backends
def test_figures_match_hand_computation(app, figures) -> None:
    with app.app_context():
        board = metrics.build_dashboard(session(), PERIOD, timezone="UTC")

    # Inquiries: A B C D E F were created 2-8 March (G before, H after): 6.
    assert board.inquiries == 6
    # Per day: 2nd A,B; 3rd C; 4th D; 5th E; 6th none; 7th F; 8th none.
    assert board.per_day == [(date(2026, 3, d), n) for d, n in [(2, 2), (3, 1), (4, 1), (5, 1), (6, 0), (7, 1), (8, 0)]]
    # Channels: form C,D,F = 3; email A,E = 2; chat B = 1.
    assert board.by_channel == [("form", 3), ("email", 2), ("chat", 1)]
    # Types: delivery A,B = 2; returns C,D = 2; unclassified E = 1; invoices F = 1 ("" sorts first among ties).
    assert board.by_type == [("delivery", 2), ("returns", 2), ("", 1), ("invoices", 1)]

    # First response (s): A 30 min = 1800, B 5 min = 300, C 2 h = 7200, D 1 h = 3600, E 24 h = 86400; F none.
    # Sorted 300, 1800, 3600, 7200, 86400: median = 3600; p90 rank ceil(0.9*5) = 5 -> 86400.
    assert board.first_response == metrics.DurationStats(5, 3600.0, 86400.0)
    # Resolution (s): A 4 h = 14400, B 20 min = 1200, C 24 h = 86400; E solved after the period: left out.
    # Sorted 1200, 14400, 86400: median 14400; p90 rank ceil(2.7) = 3 -> 86400.
    assert board.resolution == metrics.DurationStats(3, 14400.0, 86400.0)
    # Replies: A 2, B 1 (note and auto do not count), C 3, D 1, E 1 (its 2nd reply is after the period); F none.
    # 8 replies over 5 tickets = 1.6.
    assert board.replies == metrics.ReplyStats(tickets=5, replies=8, mean=1.6)
    # Backlog at 9 March: G (open), D (waiting), E (solved only on 9 March), F (new) = 4; A, C solved, B closed.
    assert board.backlog == 4
    # CSAT answered in the period: A 5, B 4, C 3 -> 12 / 3 = 4.0; CES: A 6, C 4 -> 10 / 2 = 5.0.
    # (D never answered; G answered before the period.)
    assert board.survey == metrics.SurveyStats(4.0, 3, 5.0, 2)
    # Deflection: 3 deflected events + 5 suggestions opened on 5 March with no inquiry after them within
    # 24 h (intake's rule) = 8, + 1 solved in the period (the deflected event of 10 March is left out);
    # form tickets C, D, F = 3. Rate 9 / (9 + 3) = 0.75.
    assert (board.deflection.deflected, board.deflection.solved, board.deflection.form_tickets) == (8, 1, 3)
    assert board.deflection.rate == pytest.approx(9 / 12)
    # Searches in the period: palautus x3 (case folded), lahjakortti x2 (none found), formula x1, script x1.
    assert board.top_searches == [("palautus", 3, 0), ("lahjakortti", 2, 2), (SCRIPT, 1, 1), (FORMULA.lower(), 1, 1)]
    assert board.zero_result_searches == [("lahjakortti", 2), (SCRIPT, 1), (FORMULA.lower(), 1)]


@both_backends
def test_figures_for_one_agent_and_one_channel(app, figures) -> None:
    with app.app_context():
        mine = metrics.build_dashboard(session(), metrics.Period(PERIOD.since, PERIOD.until,
                                                                 assignee_id=figures["agent1"]),
                                       timezone="UTC", help_center=False)
        form = metrics.build_dashboard(session(), metrics.Period(PERIOD.since, PERIOD.until, channel=ChannelKind.FORM),
                                       timezone="UTC")
    # agent1 has A, B, E. First responses 1800, 300, 86400: median 1800, p90 rank ceil(2.7) = 3 -> 86400.
    assert mine.inquiries == 3
    assert mine.first_response == metrics.DurationStats(3, 1800.0, 86400.0)
    # Resolution: A 14400, B 1200 -> median (1200 + 14400) / 2 = 7800; p90 rank ceil(1.8) = 2 -> 14400.
    assert mine.resolution == metrics.DurationStats(2, 7800.0, 14400.0)
    assert mine.replies == metrics.ReplyStats(3, 4, 4 / 3)       # A 2 + B 1 + E 1
    assert mine.backlog == 1                                       # E
    assert mine.survey == metrics.SurveyStats(4.5, 2, 6.0, 1)      # CSAT A 5, B 4; CES A 6
    assert mine.deflection is None and mine.top_searches is None and mine.zero_result_searches is None
    # Form: C, D, F. First responses 7200, 3600: median 5400, p90 rank ceil(1.8) = 2 -> 7200. Backlog D, F.
    assert form.inquiries == 3 and form.by_channel == [("form", 3)]
    assert form.first_response == metrics.DurationStats(2, 5400.0, 7200.0)
    assert form.backlog == 2
    assert form.survey == metrics.SurveyStats(3.0, 1, 4.0, 1)
    # Deflection and searches cover the whole help center, whatever the channel.
    assert form.deflection.rate == pytest.approx(9 / 12)


@pytest.mark.parametrize("values, median, p90", [
    ([], None, None), ([5], 5.0, 5.0), ([1, 2], 1.5, 2.0), ([3, 1, 2], 2.0, 3.0),
    (list(range(1, 11)), 5.5, 9.0), (list(range(1, 21)), 10.5, 18.0), (list(range(1, 12)), 6.0, 10.0),
])
def test_median_and_nearest_rank_percentile(values, median, p90) -> None:
    # 10 values: rank ceil(9.0) = 9 -> 9; 20 values: rank 18 -> 18; 11 values: rank ceil(9.9) = 10 -> 10.
    assert metrics.median(values) == median
    assert metrics.percentile(values, 90) == p90


@pytest.mark.parametrize("start, end, field", [
    ("2026-13-01", None, "from"), ("yesterday", None, "from"), ("2026-3-1", None, "from"), (None, "2026-02-30", "to"),
    ("2026-03-09", "2026-03-08", "from"), ("2025-01-01", "2026-03-08", "to"),
])
def test_bad_periods_are_refused(start, end, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        metrics.parse_days(start, end, today=date(2026, 3, 8))
    assert caught.value.field == field


def test_periods_default_and_cap() -> None:
    assert metrics.parse_days(None, None, today=date(2026, 3, 8)) == (date(2026, 2, 7), date(2026, 3, 8))
    assert metrics.parse_days("2025-03-08", "2026-03-08", today=date(2026, 3, 8))[0] == date(2025, 3, 8)  # 366 days
    period = metrics.period_for_days(date(2026, 3, 2), date(2026, 3, 8), timezone="Europe/Helsinki")
    assert period.since == datetime(2026, 3, 1, 22, tzinfo=timezone.utc)
    assert period.until == datetime(2026, 3, 8, 22, tzinfo=timezone.utc)


def test_csv_cells_are_defused() -> None:
    text = metrics.to_csv(["q", "n"], [["=SUM(A1)", 1], ["+1", -2], ["-x", 0], ["@a", None], ["\tx", 1.5],
                                       ['a,"b"', 3]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["q", "n"], ["'=SUM(A1)", "1"], ["'+1", "-2"], ["'-x", "0"], ["'@a", ""], ["'\tx", "1.5"], ['a,"b"', "3"]]


# ---------- the page, through the real log-in

class ScriptTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))


def kpi(html: str, name: str) -> str:
    """The text of one KPI tile, tags stripped and spaces collapsed."""
    match = re.search(rf'data-kpi="{name}">(.*?)</li>', html, re.S)
    assert match, name
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_dashboard_page_shows_the_figures(app, figures) -> None:
    client = app.test_client()
    assert log_in(client, "manager@example.fi").status_code == 302
    r = client.get(f"/admin/dashboard?from={FIRST}&to={LAST}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert kpi(html, "inquiries").endswith("6")
    assert "median 1 h 0 min" in kpi(html, "first-response") and "90th percentile 24 h 0 min" in kpi(html, "first-response")
    assert "median 4 h 0 min" in kpi(html, "resolution") and "90th percentile 24 h 0 min" in kpi(html, "resolution")
    assert "1.6" in kpi(html, "replies") and "8 replies on 5 answered tickets" in kpi(html, "replies")
    assert kpi(html, "backlog").startswith("Backlog 4")
    assert "4 / 5" in kpi(html, "csat") and "3 responses" in kpi(html, "csat")
    assert "5 / 7" in kpi(html, "ces") and "2 responses" in kpi(html, "ces")
    assert "75%" in kpi(html, "deflection") and "9 contacts avoided" in kpi(html, "deflection")
    # charts: data as JSON (not executed, so the CSP does not block it), drawn by a script from 'self'
    parser = ScriptTags()
    parser.feed(html)
    assert all(s.get("src", "").startswith("/static/") or s.get("type") == "application/json" for s in parser.scripts)
    data = json.loads(re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S)[1])
    assert data["per_day"]["values"] == [2, 1, 1, 1, 0, 1, 0]
    assert data["by_channel"]["labels"] == ["Contact form", "E-mail", "Chat"]
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="/admin/dashboard.csv?table=per_day&amp;from=2026-03-02&amp;to=2026-03-08' in html
    for path in ("/static/vendor/chart.umd.min.js", "/static/js/dashboard.js"):
        with client.get(path) as asset:
            assert asset.status_code == 200


def read_csv(response) -> list[list[str]]:
    """The cells as a spreadsheet reads them: a file with a BOM is the Finnish/Swedish Excel dialect (;)."""
    raw = response.get_data()
    if raw.startswith(b"\xef\xbb\xbf"):
        return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    return list(csv.reader(io.StringIO(raw.decode("utf-8"))))


@both_backends
def test_csv_exports(app, figures) -> None:
    client = app.test_client()
    log_in(client, "manager@example.fi")
    query = f"from={FIRST}&to={LAST}"
    r = client.get(f"/admin/dashboard.csv?table=summary&{query}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="neuvo-summary-2026-03-02-2026-03-08.csv"'
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert read_csv(r) == [
        ["metric", "value", "count"], ["inquiries", "6", "6"],
        ["first_response_median_hours", "1.0", "5"], ["first_response_p90_hours", "24.0", "5"],
        ["resolution_median_hours", "4.0", "3"], ["resolution_p90_hours", "24.0", "3"],
        ["replies_per_inquiry", "1.6", "5"], ["backlog", "4", "4"], ["csat_mean", "4.0", "3"],
        ["ces_mean", "5.0", "2"], ["deflection_rate", "0.75", "12"]]
    assert read_csv(client.get(f"/admin/dashboard.csv?table=per_day&{query}"))[1:3] == [["2026-03-02", "2"],
                                                                                        ["2026-03-03", "1"]]
    assert read_csv(client.get(f"/admin/dashboard.csv?table=by_type&{query}"))[1:] == [
        ["delivery", "2"], ["returns", "2"], ["", "1"], ["invoices", "1"]]
    rows = read_csv(client.get(f"/admin/dashboard.csv?table=zero_result_searches&{query}"))
    # the formula comes out as text; the script tag as plain text in a text/csv attachment
    assert rows == [["query", "searches"], ["lahjakortti", "2"], [SCRIPT, "1"], ["'" + FORMULA.lower(), "1"]]
    assert client.get(f"/admin/dashboard.csv?table=users&{query}").status_code == 400
    assert client.get("/admin/dashboard.csv?table=summary&from=2026-02-31").status_code == 400


def test_agent_sees_only_own_figures(app, figures) -> None:
    client = app.test_client()
    log_in(client, "agent1@example.fi")
    r = client.get(f"/admin/dashboard?from={FIRST}&to={LAST}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Only the tickets assigned to you are counted." in html
    assert kpi(html, "inquiries").endswith("3") and kpi(html, "backlog").startswith("Backlog 1")
    assert 'data-kpi="deflection"' not in html and "Top searches" not in html
    assert read_csv(client.get(f"/admin/dashboard.csv?table=summary&from={FIRST}&to={LAST}"))[1] == ["inquiries", "3", "3"]
    assert client.get(f"/admin/dashboard.csv?table=top_searches&from={FIRST}&to={LAST}").status_code == 403
    # the settings pages stay closed to agents
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize("query, text", [
    ("from=2026-13-01&to=2026-03-08", "The dates must be written as YYYY-MM-DD"),
    ("from=03.03.2026", "The dates must be written as YYYY-MM-DD"),
    ("from=2026-03-09&to=2026-03-08", "The start date is after the end date."),
    ("from=2024-01-01&to=2026-03-08", "Choose a period of at most 366 days."),
    ("channel=fax", "Unknown channel."),
])
def test_bad_period_gives_a_clear_400(app, query, text) -> None:
    create_account(app, "manager@example.fi", Role.MANAGER)
    client = app.test_client()
    log_in(client, "manager@example.fi")
    r = client.get(f"/admin/dashboard?{query}")
    assert r.status_code == 400
    assert text in r.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.EDITOR])
def test_dashboard_refuses_other_roles(app, role) -> None:
    create_account(app, "someone@example.fi", role)
    client = app.test_client()
    log_in(client, "someone@example.fi")
    assert client.get("/admin/dashboard").status_code == 403
    assert client.get("/admin/dashboard.csv?table=summary").status_code == 403


def test_guest_is_sent_to_log_in(client) -> None:
    r = client.get("/admin/dashboard?from=2026-03-02")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/auth/login?next=")
    assert client.get("/admin/dashboard.csv?table=summary").status_code == 302


# ---------- the demo shop

def test_demo_dashboard_shows_the_demo_figures(demo_app) -> None:
    demo = [json.loads(line) for line in (Path(__file__).resolve().parents[2] / "kb/demo/inquiries.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    channels: dict[str, int] = {}
    for row in demo:
        channels[row["channel"]] = channels.get(row["channel"], 0) + 1
    client = demo_app.test_client()
    assert log_in(client, "admin@tupa.example", DEMO_STAFF_PASSWORD).status_code == 302
    r = client.get("/admin/dashboard")      # default: the last 30 days, all demo inquiries (three weeks)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert kpi(html, "inquiries").endswith(str(len(demo)))
    with demo_app.app_context():
        open_tickets = session().scalar(select(func.count(Ticket.id)).where(
            Ticket.status.not_in((TicketStatus.SOLVED, TicketStatus.CLOSED))))
    summary = {row[0]: row[1] for row in read_csv(client.get("/admin/dashboard.csv?table=summary"))}
    assert summary["backlog"] == str(open_tickets) and summary["inquiries"] == str(len(demo))
    rows = read_csv(client.get("/admin/dashboard.csv?table=by_channel"))
    assert {channel: int(n) for channel, n in rows[1:]} == channels
    per_day = read_csv(client.get("/admin/dashboard.csv?table=per_day"))
    assert len(per_day) == 1 + 30 and sum(int(n) for _, n in per_day[1:]) == len(demo)
    # the chart is drawn from the same figures
    data = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', html, re.S)[1])
    assert sum(data["per_day"]["values"]) == len(demo)


# ---------- in a real browser: the charts are drawn under the CSP

@pytest.mark.browser
def test_dashboard_draws_its_charts_in_chromium(page, live_server: str) -> None:
    page.goto(live_server + "/auth/login?next=/admin/dashboard")
    page.fill("input[name=email]", "admin@tupa.example")
    page.fill("input[name=password]", DEMO_STAFF_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/admin/dashboard")
    page.locator("canvas[data-drawn=true]").nth(2).wait_for(state="visible", timeout=5000)
    assert page.locator("canvas[data-drawn=true]").count() == 3
    box = page.locator("canvas[data-chart=per_day]").bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100
    # the page fixture fails the test on any console error, CSP violations included


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_csv_opens_in_finnish_and_swedish_excel(app, figures, language) -> None:
    """Excel in Finland and Sweden splits cells at semicolons, reads 1,6 as a number and needs the BOM for UTF-8."""
    client = app.test_client()
    log_in(client, "manager@example.fi")
    client.get(f"/{language}/")  # the reader chooses the language
    query = f"from={FIRST}&to={LAST}"
    raw = client.get(f"/admin/dashboard.csv?table=summary&{query}").get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["metric", "value", "count"] and ["replies_per_inquiry", "1,6", "5"] in rows
    assert ["deflection_rate", "0,75", "12"] in rows
    raw = client.get(f"/admin/dashboard.csv?table=zero_result_searches&{query}").get_data()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert ["'" + FORMULA.lower(), "1"] in rows and [SCRIPT, "1"] in rows  # formulas still neutralised


@pytest.mark.parametrize("path", ["/admin/dashboard", "/admin/dashboard.csv"])
def test_a_bad_period_is_explained_in_the_readers_language(app, path) -> None:
    """No English service message on a Finnish page: the field's error is a Finnish sentence."""
    from tests.conftest import translated

    create_account(app, "manager@example.fi", Role.MANAGER, language="fi")
    client = app.test_client()
    log_in(client, "manager@example.fi")
    html = client.get(f"{path}?table=summary&from=03.03.2026").get_data(as_text=True)
    assert "not a date" not in html and "YYYY-MM-DD ('" not in html
    if path.endswith(".csv"):
        assert translated(app, "Give a date in the form YYYY-MM-DD.") in html
