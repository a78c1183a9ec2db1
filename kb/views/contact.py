"""The contact form with live article suggestions, the confirmation, and the satisfaction survey."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("contact", __name__)
