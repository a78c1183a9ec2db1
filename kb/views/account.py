"""Customer self-service: order tracking, changes until packed, returns, order history and invoices."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("account", __name__)
