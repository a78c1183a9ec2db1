"""Property-based tests (hypothesis): the search parser, the import formats and every form.

Whatever a person types or a shop exports, Neuvo answers without a server error,
keeps a query within its cap, imports a valid file exactly, refuses a bad one with
a message naming the file and line while changing nothing, and re-shows a form
with an error instead of storing part of it. Under .ci/run the examples are derandomised
(the "ci" Hypothesis profile of tests/conftest.py), so a failure reproduces on the next run.
"""
from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from kb.db import session
from kb.models import Article, Category, Order, Ticket
from search.query import MAX_WORDS, plan
from search.text import MAX_QUERY_CHARS, normalise_query
from tests.conftest import both_backends
from tests.support.form_fuzz import (
    FORMS,
    FormCase,
    check_form_answer,
    demo_ids,
    fuzz_form,
    post_form_endpoints,
)

BASE = settings(deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

# ---------- search: what people type

_CONTROL = st.characters(categories=("Cc", "Cf", "Co", "Zl", "Zp"))
_OPERATORS = st.sampled_from([
    "AND", "OR", "NOT", "and", '"', "'", "(", ")", "[", "]", "{", "}", "*", "?", "~", "~2", "^", "^3", ":",
    "title:", "body_fi:", "updated:[2020 TO 2030]", "<AND", ">", "<=", "TO", "\\", "/", "+", "-", "!", "&&", "||",
    "%", "_", "%00", "&#0;", "<script>", "\u202e", "\u200b", "\ufeff", "ﬁ", "a\u0301", "ß", "İ", "😀",
])
_WORDS = st.sampled_from(["palautus", "toimitus", "tilaus", "retur", "delivery", "lasku", "ja", "the", "x", ""])
QUERIES = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(_OPERATORS, _WORDS, _CONTROL, st.text(max_size=5)), max_size=40).map(" ".join),
    st.lists(st.one_of(_OPERATORS, _WORDS), max_size=80).map("".join),
    st.builds(lambda unit, n: unit * n, st.sampled_from(["a ", '"', "(", "AND ", "ö", "\u0301", "x" * 17]),
              st.integers(100, 3000)),
)


@settings(BASE, max_examples=1000)
@given(text=QUERIES, language=st.sampled_from([None, "fi", "sv", "en", "de"]))
def test_query_plan_never_raises_and_stays_within_its_caps(text: str, language: str | None) -> None:
    normalised = normalise_query(text)
    assert len(normalised) <= MAX_QUERY_CHARS
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in normalised)
    assert normalised == normalised.strip() and "  " not in normalised
    query_plan = plan(text, language)
    assert query_plan.text == normalised
    assert len(query_plan.words) <= 2 * MAX_WORDS
    # normalising again changes nothing that is searched for
    assert plan(normalised, language).words == query_plan.words


@settings(BASE, max_examples=80)
@given(text=QUERIES, as_you_type=st.sampled_from(["0", "1"]))
def test_search_endpoints_answer_any_query_within_the_cap(demo_client, text: str, as_you_type: str) -> None:
    args = {"q": text, "as_you_type": as_you_type}
    api = demo_client.get("/api/v1/search", query_string=args)
    page = demo_client.get("/fi/search", query_string=args)
    if "\x00" in text:  # refused before any view runs: PostgreSQL text cannot hold NUL
        assert api.status_code == page.status_code == 400 and api.is_json
        return
    assert api.status_code == 200 and page.status_code == 200, (api.status_code, page.status_code)
    assert api.json["query"] == normalise_query(text)
    assert len(api.json["query"]) <= MAX_QUERY_CHARS
    assert api.json["total"] >= len(api.json["results"])


# ---------- imports: generated files

_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=80).map(str.strip).filter(bool)
_BODY = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r"), max_size=600).map(str.strip)
_SLUG = st.from_regex(r"\A[a-z][a-z0-9]{0,12}(-[a-z0-9]{1,8}){0,3}\Z")
_STAMP = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                      timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), None]))

ARTICLES = st.lists(st.fixed_dictionaries({
    "slug": _SLUG, "title": _TEXT, "body": _BODY, "language": st.sampled_from(["fi", "sv", "en"]),
    "category": st.sampled_from(["toimitus", "Palautukset ja vaihdot", "Maksaminen & laskut", "FAQ 2"]),
    "tags": st.lists(st.from_regex(r"\A[a-zåäö0-9]{1,12}\Z"), max_size=4),
    "status": st.sampled_from(["published", "draft"]),
}), min_size=1, max_size=6, unique_by=lambda r: r["slug"])

INQUIRIES = st.lists(st.fixed_dictionaries({
    "id": st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,30}\Z"),
    "created_at": _STAMP.map(lambda d: d.isoformat()),
    "channel": st.sampled_from(["email", "chat", "form", "social", "phone"]),
    "subject": _TEXT, "body": _BODY.filter(bool),
    "language": st.sampled_from(["fi", "sv", "en"]),
    "email": st.from_regex(r"\A[a-z0-9._+-]{1,20}@[a-z0-9-]{1,20}\.(fi|com|se)\Z"),
    "order_number": st.from_regex(r"\A[0-9]{0,8}\Z"),
}), min_size=1, max_size=5, unique_by=lambda r: r["id"])

_PRICE = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
ORDERS = st.lists(st.fixed_dictionaries({
    "number": st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,20}\Z"),
    "email": st.from_regex(r"\A[a-z0-9._+-]{1,20}@[a-z0-9-]{1,20}\.(fi|com)\Z"),
    "status": st.sampled_from(["received", "paid", "packing", "packed", "shipped", "delivered", "cancelled"]),
    "placed_at": _STAMP.map(lambda d: d.isoformat()),
    "lines": st.lists(st.fixed_dictionaries({
        "sku": st.from_regex(r"\A[A-Z0-9-]{1,16}\Z"), "name": _TEXT,
        "quantity": st.integers(1, 10_000),
        "unit_price": st.one_of(_PRICE.map(str), _PRICE.map(lambda p: str(p).replace(".", ","))),
        "vat_rate": st.sampled_from([0, 10, 14, 25.5]),
    }), min_size=1, max_size=4, unique_by=lambda line: line["sku"]),
}), min_size=1, max_size=4, unique_by=lambda r: r["number"])


def write_file(path: Path, rows: list[dict], *, as_csv: bool = False) -> Path:
    """Rows as JSON Lines, or as CSV (lists comma-separated) when ``as_csv``."""
    if not as_csv:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        return path
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({k: ",".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def stored(app) -> dict[str, list[tuple]]:
    """Everything an import writes, as comparable tuples."""
    with app.app_context():
        db = session()
        return {
            "articles": [(a.slug, a.title, a.body, a.language, a.category.slug, tuple(a.tags), a.status.value)
                         for a in db.scalars(select(Article).order_by(Article.slug))],
            "categories": [(c.slug, tuple(sorted(c.names.items()))) for c in db.scalars(select(Category))],
            "tickets": [(t.external_id, t.subject, t.body, t.language, t.channel.value, t.customer_email,
                         t.order_number, t.created_at) for t in db.scalars(select(Ticket).order_by(Ticket.id))],
            "orders": [(o.number, o.email, o.status.value, o.placed_at, o.version,
                        tuple((li.sku, li.name, li.quantity, li.unit_price_cents, li.vat_rate_bp) for li in o.lines))
                       for o in db.scalars(select(Order).order_by(Order.number))],
        }


@settings(BASE, max_examples=25)
@given(rows=ARTICLES, as_csv=st.booleans())
def test_generated_articles_import_exactly(app, runner, tmp_path: Path, rows: list[dict], as_csv: bool) -> None:
    from kb.services.helpcenter.articles import slugify

    path = write_file(tmp_path / ("a.csv" if as_csv else "a.jsonl"), rows, as_csv=as_csv)
    result = runner.invoke(args=["import", "articles", str(path)])
    assert result.exit_code == 0, result.output
    articles = {a[0]: a for a in stored(app)["articles"]}
    for row in rows:
        assert articles[row["slug"]] == (row["slug"], row["title"], row["body"], row["language"],
                                         slugify(row["category"]), tuple(row["tags"]), row["status"])


@settings(BASE, max_examples=10)
@given(rows=INQUIRIES, as_csv=st.booleans())
def test_generated_inquiries_import_exactly(app, runner, tmp_path: Path, rows: list[dict], as_csv: bool) -> None:
    from kb.services.importing import timestamp

    path = write_file(tmp_path / ("i.csv" if as_csv else "i.jsonl"), rows, as_csv=as_csv)
    result = runner.invoke(args=["import", "inquiries", str(path)])
    assert result.exit_code == 0, result.output
    tickets = {t[0]: t for t in stored(app)["tickets"]}
    for row in rows:
        assert tickets[row["id"]] == (row["id"], row["subject"], row["body"], row["language"], row["channel"],
                                      row["email"], row["order_number"], timestamp(row, "created_at"))


@settings(BASE, max_examples=20)
@given(rows=ORDERS)
def test_generated_orders_import_exactly(app, runner, tmp_path: Path, rows: list[dict]) -> None:
    from decimal import Decimal

    from kb.services.importing import timestamp

    result = runner.invoke(args=["import", "orders", str(write_file(tmp_path / "o.jsonl", rows))])
    assert result.exit_code == 0, result.output
    orders = {o[0]: o for o in stored(app)["orders"]}
    for row in rows:
        number, email, status, placed_at, _version, lines = orders[row["number"]]
        assert (number, email, status, placed_at) == (row["number"], row["email"], row["status"],
                                                      timestamp(row, "placed_at"))
        assert lines == tuple((li["sku"], li["name"], li["quantity"],
                               int(Decimal(li["unit_price"].replace(",", ".")) * 100),
                               int(Decimal(str(li["vat_rate"])) * 100)) for li in row["lines"])


@both_backends
def test_a_category_name_longer_as_an_address_is_imported(app, runner, tmp_path: Path, backend: str) -> None:
    """80 ligatures make a 240-letter address: PostgreSQL refused it with a traceback (found by the fuzzing)."""
    row = {"slug": "ohje", "title": "Ohje", "body": "", "language": "fi", "category": "ﬃ" * 80}
    result = runner.invoke(args=["import", "articles", str(write_file(tmp_path / "a.jsonl", [row]))])
    assert result.exit_code == 0, result.output
    assert stored(app)["articles"][0][4] == ("ffi" * 27)[:80]


# ---------- imports: one broken line

Breakage = Callable[[dict], "dict | str"]
#: (what is broken, how): each returns the broken row, or the broken line's raw text.
COMMON_BREAKAGE: dict[str, Breakage] = {
    "truncated JSON": lambda r: json.dumps(r, ensure_ascii=False)[:-1],
    "not an object": lambda r: json.dumps(list(r.values()), ensure_ascii=False),
    "unknown column": lambda r: {**r, "colour": "red"},
    "NUL in text": lambda r: {**r, _first_text(r): "a\x00b"},
    "list for text": lambda r: {**r, _first_text(r): ["x"]},
    "object for text": lambda r: {**r, _first_text(r): {"x": 1}},
    "boolean for text": lambda r: {**r, _first_text(r): True},
}
FORMAT_BREAKAGE: dict[str, dict[str, Breakage]] = {
    "articles": {
        "bad slug": lambda r: {**r, "slug": "Iso Kirjain"},
        "long title": lambda r: {**r, "title": "x" * 501},
        "unknown language": lambda r: {**r, "language": "de"},
        "unknown status": lambda r: {**r, "status": "live"},
        "missing title": lambda r: {k: v for k, v in r.items() if k != "title"},
        "numbers as tags": lambda r: {**r, "tags": [1, 2]},
    },
    "inquiries": {
        "bad date": lambda r: {**r, "created_at": "2026-02-30T10:00"},
        "unknown channel": lambda r: {**r, "channel": "fax"},
        "bad e-mail": lambda r: {**r, "email": "not an address"},
        "no body or subject": lambda r: {**r, "body": "", "subject": " "},
        "long id": lambda r: {**r, "id": "x" * 121},
        "year 1 east of UTC": lambda r: {**r, "created_at": "0001-01-01T00:06:46+01:01"},
    },
    "orders": {
        "zero quantity": lambda r: {**r, "lines": [{**r["lines"][0], "quantity": 0}]},
        "fraction quantity": lambda r: {**r, "lines": [{**r["lines"][0], "quantity": 1.5}]},
        "bad price": lambda r: {**r, "lines": [{**r["lines"][0], "unit_price": "12.345"}]},
        "negative price": lambda r: {**r, "lines": [{**r["lines"][0], "unit_price": -1}]},
        "huge price": lambda r: {**r, "lines": [{**r["lines"][0], "unit_price": "1e30"}]},
        "no lines": lambda r: {**r, "lines": []},
        "line not an object": lambda r: {**r, "lines": ["TK-1"]},
        "bad status": lambda r: {**r, "status": "lost"},
        "bad number": lambda r: {**r, "number": "../1"},
        "other currency": lambda r: {**r, "currency": "SEK"},
        "bad event date": lambda r: {**r, "events": [{"status": "paid", "at": "eilen"}]},
        "year 9999 west of UTC": lambda r: {**r, "placed_at": "9999-12-31T23:00:00-05:00"},
    },
}
GENERATED = {"articles": ARTICLES, "inquiries": INQUIRIES, "orders": ORDERS}
KEY = {"articles": "slug", "inquiries": "id", "orders": "number"}


def _first_text(row: dict) -> str:
    return next(k for k in ("title", "subject", "email") if k in row)


@pytest.mark.parametrize("kind", ["articles", "inquiries", "orders"])
def test_one_broken_line_exits_2_naming_it_and_changes_nothing(app, runner, tmp_path: Path, kind: str) -> None:
    breakage = {**COMMON_BREAKAGE, **FORMAT_BREAKAGE[kind]}

    @settings(BASE, max_examples={"articles": 25, "inquiries": 12, "orders": 25}[kind])
    @given(before=GENERATED[kind], rows=GENERATED[kind], data=st.data())
    def check(before: list[dict], rows: list[dict], data: st.DataObject) -> None:
        path = write_file(tmp_path / f"{kind}-ok.jsonl", before)
        assert runner.invoke(args=["import", kind, str(path)]).exit_code == 0
        snapshot = stored(app)
        position = data.draw(st.integers(0, len(rows) - 1), label="broken line index")
        name = data.draw(st.sampled_from(sorted(breakage)), label="breakage")
        broken = breakage[name](dict(rows[position]))
        lines = [json.dumps(r, ensure_ascii=False) for r in rows]
        lines[position] = broken if isinstance(broken, str) else json.dumps(broken, ensure_ascii=False)
        bad = tmp_path / f"{kind}-bad.jsonl"
        bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = runner.invoke(args=["import", kind, str(bad)])
        assert result.exit_code == 2, (name, result.output)
        assert f"{bad}:{position + 1}:" in result.output, (name, result.output)
        assert "Traceback" not in result.output
        assert stored(app) == snapshot, name

    check()


@pytest.mark.parametrize("kind", ["articles", "inquiries"])
def test_one_broken_csv_row_exits_2_naming_its_line(app, runner, tmp_path: Path, kind: str) -> None:
    @settings(BASE, max_examples=15)
    @given(rows=GENERATED[kind], data=st.data())
    def check(rows: list[dict], data: st.DataObject) -> None:
        rows = [{k: v.replace("\n", " ") if isinstance(v, str) else v for k, v in r.items()} for r in rows]
        snapshot = stored(app)
        position = data.draw(st.integers(0, len(rows) - 1), label="broken row index")
        field = data.draw(st.sampled_from(["language", "channel"] if kind == "inquiries" else ["language", "status"]))
        rows[position] = {**rows[position], field: "xx"}
        path = write_file(tmp_path / f"{kind}.csv", rows, as_csv=True)
        result = runner.invoke(args=["import", kind, str(path)])
        assert result.exit_code == 2, result.output
        assert f"{path}:{position + 2}: field '{field}'" in result.output, result.output
        assert stored(app) == snapshot

    check()


# ---------- every form

def test_every_form_endpoint_is_fuzzed(app) -> None:
    """A new form without an entry in FORMS fails here, so it cannot skip the fuzzing below."""
    assert sorted(post_form_endpoints(app)) == sorted(FORMS)


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_forms_take_any_input_without_a_server_error_or_a_half_stored_change(demo_app, endpoint: str) -> None:
    case: FormCase = FORMS[endpoint]
    ids = demo_ids(demo_app)
    fuzz = fuzz_form(demo_app, case, ids)

    @settings(BASE, max_examples=case.examples)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        check_form_answer(fuzz.post(data))

    check()


def test_a_refused_role_change_of_an_unlisted_user_is_shown(demo_app) -> None:
    """Found by the fuzzing: the error was keyed to a table row that the page no longer listed."""
    fuzz = fuzz_form(demo_app, FORMS["admin.change_role"], demo_ids(demo_app))
    assert fuzz.client.post(fuzz.action, data={"csrf_token": fuzz.token, "role": "customer"}).status_code == 302
    refused = fuzz.client.post(fuzz.action, data={"csrf_token": fuzz.token, "role": "superuser"})
    assert refused.status_code == 400
    assert 'class="field-error" id="user-error" role="alert"' in refused.get_data(as_text=True)


@pytest.mark.parametrize("field,value", [("idempotency_key", ""), ("comment", "x" * 1001)])
def test_a_refused_return_shows_why(demo_app, field: str, value: str) -> None:
    """Found by the fuzzing: errors on the hidden form key and on the comment were not on the page."""
    fuzz = fuzz_form(demo_app, FORMS["account.register_return"], demo_ids(demo_app))
    line = next(name for name in fuzz.fields if name.startswith("qty-"))
    data = {"csrf_token": fuzz.token, "reason": "changed_mind", "resolution": "refund", line: "1",
            "idempotency_key": "k" * 24, "comment": "", field: value}
    refused = fuzz.client.post(fuzz.action, data=data)
    assert refused.status_code == 400
    assert f'class="field-error" id="{field}-error" role="alert"' in refused.get_data(as_text=True)
