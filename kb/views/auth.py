"""Sign-up, log-in, log-out, password reset and profile."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")
