"""Guests and their orders in tests: open the single-use link mailed to the order's address, as its owner would."""
from __future__ import annotations

import re

from tests.html_forms import csrf_token
from tests.mail_helpers import sent_mail


def order_link(app, client, number: str) -> str:
    """Ask for the order's link from its change page; the path of the link in the mail."""
    page = client.get(f"/tilaus/{number}/muuta").get_data(as_text=True)
    assert "data-order-link" in page
    r = client.post(f"/tilaus/{number}/linkki", data={"csrf_token": csrf_token(page)})
    assert r.status_code == 302, r.status_code
    mail = [m for m in sent_mail(app) if number in m["Subject"]][-1]
    return re.search(r"https?://[^/\s]+(/tilaus/linkki/[\w-]+)", mail.get_content()).group(1)


def open_order_link(app, client, number: str) -> None:
    """Ask for the link and open it: this client may then change the order."""
    link = order_link(app, client, number)
    page = client.get(link)
    assert page.status_code == 200
    r = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert r.status_code == 302 and r.headers["Location"] == f"/tilaus/{number}/muuta"
