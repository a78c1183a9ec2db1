"""HTTP caching of the public help center: who may keep a page, for how long, and 304s.

* Every page for a logged-in user, and every other page that carries a form token
  (CSRF) or sets a cookie, is ``private`` (``no-store`` unless it is a help-center
  page that browsers may revalidate): a shared cache such as nginx never keeps it.
* Anonymous help-center pages (home, category, article, search, and the public
  search and article API) that set no cookie and carry no token, asked without a
  session, are ``public, max-age=0, s-maxage=HTTP_CACHE_SECONDS`` (and
  ``X-Accel-Expires``, which nginx reads first): browsers ask again each time, a
  shared cache may answer for a few seconds (deploy/nginx.conf, docs/deployment.md).
* Those pages carry an ``ETag`` (a hash of the body, so it changes whenever anything
  on the page does) and, where the page shows articles, ``Last-Modified`` (the
  newest article change anywhere, or the start of this process if later); a matching
  ``If-None-Match`` / ``If-Modified-Since`` is answered ``304 Not Modified``.

A page with a form token is private but may still be revalidated: its ETag leaves
out the token, whose signature changes every second, and instead names the ten
minutes in which it was made, so a browser's copy never holds a token much older
than a fresh page's.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user

from kb.db import session as db_session, utcnow

#: Help-center pages that may be served from a cache to anonymous visitors.
PUBLIC_ENDPOINTS = frozenset({"help.home", "help.category", "help.article", "help.search", "api.search",
                              "api.article"})
#: Of those, the pages about articles, which say when the knowledge base last changed (the search
#: API answers from this server's index without the database, so it carries only its ETag).
DATED_ENDPOINTS = frozenset({"help.category", "help.article", "api.article"})
TOKEN_BUCKET_SECONDS = 600
PRIVATE = "private, no-store"
REVALIDATE_PRIVATELY = "private, no-cache"


def cache_policy(response: Response) -> Response:
    """Set Cache-Control (and, on help-center pages, ETag, Last-Modified and a 304) on ``response``."""
    if request.endpoint == "static" or "Cache-Control" in response.headers:
        return response  # static files and pages that chose their own policy (no-store on account pages)
    token = g.get(_token_key())
    personal = bool(token) or session.modified or "Set-Cookie" in response.headers
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = PRIVATE
        return response
    cacheable = (request.method in ("GET", "HEAD") and request.endpoint in PUBLIC_ENDPOINTS
                 and response.status_code == 200 and not response.is_streamed)
    if not cacheable:
        if personal:
            response.headers["Cache-Control"] = PRIVATE
        return response
    seconds = int(current_app.config["HTTP_CACHE_SECONDS"])
    if personal or session or seconds <= 0:
        response.headers["Cache-Control"] = REVALIDATE_PRIVATELY
    else:
        response.headers["Cache-Control"] = f"public, max-age=0, s-maxage={seconds}"
        response.headers["X-Accel-Expires"] = str(seconds)  # nginx's own, read before Cache-Control, never passed on
    if token and session.get(_token_key()) != g.get("neuvo_token_before"):
        # a new token for this session: a browser's copy would hold one that no longer matches
        return response
    response.set_etag(_etag(response.get_data(), token))
    if request.endpoint in DATED_ENDPOINTS:
        response.last_modified = _last_modified()
    return response.make_conditional(request)


def _token_key() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _remember_token() -> None:
    """Note the session's form-token secret as the request found it (a page may make a new one)."""
    if request.endpoint in PUBLIC_ENDPOINTS and request.cookies:
        g.neuvo_token_before = session.get(_token_key())


def _etag(body: bytes, token: str | None) -> str:
    digest = hashlib.sha256()
    if token:
        body = body.replace(token.encode(), b"")
        digest.update(f"token:{int(time.time()) // TOKEN_BUCKET_SECONDS}:".encode())
    digest.update(body)
    return digest.hexdigest()[:32]


def _last_modified() -> datetime:
    from kb.services.helpcenter.kb_catalogue import log_state

    changed = log_state(db_session(), reuse=True)[1]
    started = current_app.extensions["neuvo_started_at"]
    return max(changed, started) if changed is not None else started


def init_app(app: Flask) -> None:
    app.extensions["neuvo_started_at"] = utcnow().replace(microsecond=0)
    app.before_request(_remember_token)
    app.after_request(cache_policy)
