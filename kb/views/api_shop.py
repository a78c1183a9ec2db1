"""The shop platform's side of the API: orders, order events and inquiries (bearer token)."""
from __future__ import annotations

from flask import Blueprint

from kb.extensions import csrf

bp = Blueprint("api_shop", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
