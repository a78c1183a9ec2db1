"""Default configuration.

Order of precedence (later wins): these defaults, ``instance/config.py``,
``NEUVO_*`` environment variables, then the dict given to ``create_app``.
"""
from __future__ import annotations

from datetime import timedelta

SECRET_KEY: str | None = None
#: development | production | testing. Outside development and testing a
#: NEUVO_SECRET_KEY is required.
ENV = "production"

#: SQLAlchemy URL; None means ``sqlite:///<instance>/neuvo.db``.
DATABASE_URL: str | None = None
#: Where the Whoosh index and fitted suggester models live; None: ``<instance>/``.
INDEX_PATH: str | None = None
MODELS_PATH: str | None = None

LANGUAGES = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"
TIMEZONE = "Europe/Helsinki"
SHOP_NAME = "Neuvo"

BABEL_DEFAULT_LOCALE = "fi"
BABEL_DEFAULT_TIMEZONE = "Europe/Helsinki"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = True
PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
REMEMBER_COOKIE_DURATION = timedelta(days=14)
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_SECURE = True
#: Request bodies above this are answered with 413.
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
MAX_FORM_MEMORY_SIZE = 512 * 1024

WTF_CSRF_TIME_LIMIT = 4 * 3600

#: Flask-Limiter storage; memory is per process, use redis:// with several workers.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True
SEARCH_RATE_LIMIT = "120 per minute"
SUGGEST_RATE_LIMIT = "60 per minute"

SEARCH_PER_PAGE = 10
#: Content-Security-Policy sent with every response.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
