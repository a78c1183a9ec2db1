"""Every route has an access policy, every state change needs a CSRF token.

Generated from the URL map: a route added without a policy here fails the
first test, so nobody ships a page that forgot to check who is asking.
"""
from __future__ import annotations

import pytest

from kb.models import Role
from tests.support.auth_helpers import sign_in
from tests.support.route_helpers import fill
from tests.support.html_forms import csrf_token

PUBLIC = "public"          # anyone
LOGIN = "login"            # any logged-in user; guests go to the log-in form
OWNER = "owner"            # names an order/return/invoice: 404 unless the viewer owns it
TOKEN = "token"            # shop platform API: bearer token
STAFF = "staff"            # decorated with roles_required

POLICIES = {
    "static": PUBLIC, "root": PUBLIC, "favicon": PUBLIC,
    "help.home": PUBLIC, "help.category": PUBLIC, "help.article": PUBLIC, "help.search": PUBLIC,
    "help.feedback": PUBLIC, "help.feedback_missing": PUBLIC,
    "api.openapi": PUBLIC, "api.search": PUBLIC, "api.article": PUBLIC, "api.suggest": PUBLIC,
    "api_shop.upsert_order": TOKEN, "api_shop.order_event": TOKEN, "api_shop.create_inquiry": TOKEN,
    "auth.signup": PUBLIC, "auth.login": PUBLIC, "auth.logout": LOGIN, "auth.reset_request": PUBLIC,
    "auth.reset_password": PUBLIC, "auth.profile": LOGIN, "auth.change_password": LOGIN,
    "auth.verify_email": PUBLIC, "auth.resend_verification": PUBLIC,
    "two_step.verify": PUBLIC, "two_step.setup": LOGIN, "two_step.recovery_codes": LOGIN,
    "two_step.disable": LOGIN, "my_data.download": LOGIN, "my_data.delete": LOGIN,
    "sessions.end": LOGIN, "inquiries.index": LOGIN, "inquiries.detail": LOGIN,
    "account.track": PUBLIC, "account.orders": LOGIN, "account.returns": LOGIN, "account.new_return": PUBLIC,
    "account.order": OWNER, "account.change": OWNER, "account.change_address": OWNER,
    "account.change_line": OWNER, "account.add_product": OWNER, "account.cancel": OWNER,
    "account.register_return": OWNER, "account.return_status": OWNER, "account.return_label": OWNER,
    "account.invoice": OWNER, "account.invoice_pdf": OWNER,
    "order_links.send_link": OWNER, "order_links.open_link": PUBLIC,
}
STAFF_AREAS = ("agent.", "editor.", "admin.")
PUBLIC_AREAS = ("contact.",)
#: Routes without a session or form: token-authenticated or read-only JSON.
CSRF_EXEMPT = {"api.suggest", "api_shop.upsert_order", "api_shop.order_event", "api_shop.create_inquiry"}


def policy(endpoint: str) -> str | None:
    if endpoint in POLICIES:
        return POLICIES[endpoint]
    if endpoint.startswith(STAFF_AREAS):
        return STAFF
    if endpoint.startswith(PUBLIC_AREAS):
        return PUBLIC
    return None


def test_every_route_has_a_policy(app) -> None:
    missing = sorted(rule.endpoint for rule in app.url_map.iter_rules() if policy(rule.endpoint) is None)
    assert missing == []


def test_staff_areas_check_roles_on_every_view(app) -> None:
    undecorated = sorted(rule.endpoint for rule in app.url_map.iter_rules()
                         if policy(rule.endpoint) == STAFF
                         and not hasattr(app.view_functions[rule.endpoint], "allowed_roles"))
    assert undecorated == []


def test_customers_cannot_open_staff_areas(app) -> None:
    allowed = {rule.endpoint: set(app.view_functions[rule.endpoint].allowed_roles)
               for rule in app.url_map.iter_rules() if policy(rule.endpoint) == STAFF}
    assert all(Role.CUSTOMER not in roles for roles in allowed.values())
    for endpoint, roles in allowed.items():
        if endpoint.startswith("agent."):
            assert roles <= {Role.AGENT, Role.MANAGER}, endpoint
        if endpoint.startswith("editor."):
            assert roles <= {Role.EDITOR}, endpoint


def owner_urls(app, number: str, rma: str) -> list[tuple[str, str]]:
    values = {"number": number, "rma": rma, "line_id": "1", "lang": "fi"}
    urls = []
    for rule in app.url_map.iter_rules():
        if policy(rule.endpoint) == OWNER:
            method = "GET" if "GET" in rule.methods else "POST"
            url = fill(rule, values)
            if rule.endpoint.startswith("account.invoice"):
                url = url.replace(f"/{number}", f"/L{number}")
            urls.append((method, url))
    return urls


@pytest.fixture
def two_customers(app, create_order):
    from kb.db import commit, session, utcnow
    from kb.services.orders import rules, returns as return_rules
    from kb.services.accounts.users import create_user

    number = create_order("aino@example.com")
    with app.app_context():
        for email in ("aino@example.com", "eero@example.com"):
            create_user(session(), email, role=Role.CUSTOMER, password="pitkä-salasana-1", now=utcnow())
        order = rules.customer_order(session(), number, email="aino@example.com")
        ret = return_rules.register_return(session(), order, return_rules.ReturnRequest(
            lines={order.lines[0].id: 1}, reason="faulty", resolution="refund", comment="",
            idempotency_key="k" * 24), now=utcnow())
        commit()
        return number, ret.rma


def test_other_customer_and_guest_get_404_on_every_owned_url(app, two_customers) -> None:
    """Someone else's order, return or invoice: 404 for another customer; a guest's page request goes to
    the log-in form, for a number that exists and one that does not alike (nothing told either way)."""
    number, rma = two_customers
    guest, other, owner = app.test_client(), app.test_client(), app.test_client()
    sign_in(other, "eero@example.com", "pitkä-salasana-1")
    sign_in(owner, "aino@example.com", "pitkä-salasana-1")
    tokens = {id(guest): csrf_token(guest.get("/fi/tilaus/seuranta").get_data(as_text=True)),
              id(other): csrf_token(other.get("/auth/profile").get_data(as_text=True))}
    missing = {number: "999999", rma: "RMA-NOPE0000"}
    for method, url in owner_urls(app, number, rma):
        r = other.open(url, method=method, data={"quantity": "1", "version": "1", "csrf_token": tokens[id(other)]})
        assert r.status_code == 404, (url, method, r.status_code)
        nowhere = url
        for real, fake in missing.items():
            nowhere = nowhere.replace(real, fake)
        for target in (url, nowhere):
            r = guest.open(target, method=method, data={"quantity": "1", "version": "1",
                                                         "csrf_token": tokens[id(guest)]})
            if method == "GET":
                assert r.status_code == 302 and r.headers["Location"].startswith("/auth/login?next="), (target, r.status_code)
                assert guest.get(r.headers["Location"]).status_code == 200
            else:
                assert r.status_code == 404, (target, method, r.status_code)
        if method == "GET":
            assert owner.get(url).status_code == 200, url


def test_a_customer_who_opens_an_order_link_logged_out_logs_in_and_sees_it(app, two_customers) -> None:
    from urllib.parse import parse_qs, urlsplit

    from tests.support.auth_helpers import log_in

    number, _ = two_customers
    client = app.test_client()
    sent = client.get(f"/tilaus/{number}")
    next_url = parse_qs(urlsplit(sent.headers["Location"]).query)["next"][0]
    assert next_url == f"/tilaus/{number}"
    back = log_in(client, "aino@example.com", "pitkä-salasana-1", next_url=next_url)
    assert back.status_code == 302 and back.headers["Location"] == f"/tilaus/{number}"
    assert number in client.get(back.headers["Location"]).get_data(as_text=True)


def test_login_pages_send_guests_to_log_in(app) -> None:
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if policy(rule.endpoint) == LOGIN and "GET" in rule.methods:
            r = client.get(fill(rule, {}))
            assert r.status_code == 302 and "/auth/login" in r.headers["Location"], rule.rule


def test_every_state_change_needs_a_csrf_token(app, two_customers) -> None:
    number, rma = two_customers
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    values = {"number": number, "rma": rma, "line_id": "1", "lang": "fi", "slug": "x", "token": "x", "id": "1"}
    checked = 0
    for rule in app.url_map.iter_rules():
        unsafe = rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        if not unsafe or rule.endpoint in CSRF_EXEMPT:
            continue
        r = client.open(fill(rule, values), method=sorted(unsafe)[0], data={"x": "1"})
        assert r.status_code == 400, (rule.rule, r.status_code)
        checked += 1
    assert checked >= 10


def test_no_state_change_over_get(app) -> None:
    """Routes named after an action accept POST; GET there may only show a confirmation form."""
    for rule in app.url_map.iter_rules():
        name = rule.endpoint.rsplit(".", 1)[-1]
        if any(word in name for word in ("delete", "cancel", "logout", "solve", "publish", "take", "assign")):
            assert "POST" in rule.methods, rule.rule


def test_a_wrong_method_says_which_methods_are_allowed(client) -> None:
    """HTTP 405 carries the Allow header (RFC 9110 15.5.6), on pages and in the API alike."""
    page = client.post("/fi/")
    assert page.status_code == 405 and set(page.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}
    api = client.delete("/api/v1/search")
    assert api.status_code == 405 and "GET" in api.headers["Allow"] and api.is_json
    assert "POST" in client.get("/auth/logout").headers["Allow"]
