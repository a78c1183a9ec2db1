"""The agent workspace: one inbox for every channel, the ticket with its customer context."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("agent", __name__, url_prefix="/agent")
