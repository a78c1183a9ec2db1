"""Pages with personal data are never kept by browsers or shared caches (ASVS 8.2.1)."""
from __future__ import annotations

from flask import Blueprint, Response


def no_store(response: Response) -> Response:
    """``Cache-Control: no-store`` on every answer, redirects and errors included: a cache keyed
    by URL alone would otherwise hand one visitor's page, or a guest's log-in redirect, to another."""
    response.headers["Cache-Control"] = "no-store"
    return response


def keep_private(bp: Blueprint) -> Blueprint:
    """Mark every answer of ``bp`` no-store (tests/test_cache_headers.py checks each private page)."""
    bp.after_request(no_store)
    return bp
