"""The editor workspace: articles, translations, revisions and the suggested missing articles."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/editor")
