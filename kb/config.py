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
#: Each process checks the database for article changes (saved by other processes
#: or other app servers) at most this often, to bring its server's search index and
#: suggester model up to date; the process that saved a change applies it at once.
INDEX_SYNC_SECONDS = 5
#: Most-read and related-article lists are computed once per article change and process,
#: and again after this many seconds at most, as view counts reorder them.
CATALOGUE_SECONDS = 60
#: Anonymous help-center pages (home, categories, articles, search) may be kept this long by
#: a shared cache such as nginx's proxy_cache (Cache-Control s-maxage); 0 lets no shared cache
#: keep them. Browsers always ask again (with ETag / Last-Modified, answered 304 when unchanged).
HTTP_CACHE_SECONDS = 10
#: Applied article changes are kept this long in the ``index_changes`` log
#: (pruned daily by ``neuvo worker`` and by ``neuvo reindex``); an app server offline for
#: longer rebuilds its index.
INDEX_CHANGE_RETENTION_DAYS = 30

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

#: Answer each new e-mail from a person (fetched by ``neuvo mail poll`` or the worker) with the
#: reference, the expected answer time and the articles that may help; see kb/mailing/acknowledgements.py.
EMAIL_ACKNOWLEDGEMENT = True

#: Staff (agents, editors, managers, admins) must set up two-step verification (a code from an
#: authenticator app after the password) before they can open a staff page (ASVS 4.3.1).
TWO_STEP_REQUIRED_FOR_STAFF = False

#: Solved and closed inquiries are anonymised (the customer's address, name, order number,
#: contact details in the text and attachments erased) this many days after their last change,
#: by ``neuvo worker`` (or ``neuvo privacy purge``); 0 keeps them until erased by hand.
PERSONAL_DATA_RETENTION_DAYS = 730

#: Where the security event log goes (log-ins, lock-outs, password and account changes,
#: refused requests; one JSON line each): "-" for standard error (the journal under
#: systemd), a file path (logrotate-friendly), or "" for the ``neuvo.security`` logger only.
SECURITY_LOG = "-"

#: Argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile, 64 MiB).
PASSWORD_HASH_TIME_COST = 3
PASSWORD_HASH_MEMORY_COST = 65536

#: Flask-Limiter storage; memory is per process, use redis:// with several workers.
RATELIMIT_STORAGE_URI = "memory://"
#: Reverse proxies in front of the app that set X-Forwarded-For and X-Forwarded-Proto
#: (1 behind the nginx of deploy/nginx.conf): the client address that rate limits
#: count comes from them. 0: clients connect directly. Never more than there are:
#: a client reaching the app past the proxy could then pick its own address.
TRUSTED_PROXIES = 0
RATELIMIT_HEADERS_ENABLED = True
SEARCH_RATE_LIMIT = "120 per minute"
SUGGEST_RATE_LIMIT = "60 per minute"
#: The suggester's semantic signal (a packaged sentence encoder, see suggest/semantic.py):
#: "auto" uses it when it loads, "on" fails clearly when it cannot, "off" never loads it.
SUGGEST_SEMANTIC = "auto"

SEARCH_PER_PAGE = 10
#: Content-Security-Policy sent with every response.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# ---------- Accounts: log-in limits, password reset and outgoing mail

#: Log-in POSTs per client address.
LOGIN_RATE_LIMIT = "10 per minute"
#: Failed log-ins per submitted e-mail address (from any client) before that
#: address is locked for the rest of the window; a successful log-in starts the count again.
LOGIN_FAILURE_LIMIT = "5 per 15 minutes"
#: Sign-up and password-reset requests per client address and per e-mail address
#: (the latter stops one address from being flooded with mail).
SIGNUP_RATE_LIMIT = "10 per hour"
RESET_RATE_LIMIT = "5 per minute"
#: Guest order lookups (order number + e-mail) per e-mail address and per order number, from any
#: client, counted before the check; finding the order starts both counts again. (Per client:
#: 10 per 10 minutes, an IPv6 client counted by its /64.)
GUEST_LOOKUP_FAILURE_LIMIT = "5 per 15 minutes"
#: Links for changing an order mailed to a guest, per client and per order.
ORDER_LINK_RATE_LIMIT = "3 per hour"
#: Account e-mails (welcome, "you already have an account", reset link) per address.
ACCOUNT_MAIL_RATE_LIMIT = "3 per hour"
#: How long a password-reset link works; each link works once.
RESET_TOKEN_MINUTES = 60
#: A log-in without "keep me logged in" ends after this long without requests,
#: and in any case PERMANENT_SESSION_LIFETIME after it began.
SESSION_IDLE_TIMEOUT = timedelta(hours=2)

#: SMTP server for outgoing mail; None writes each message as an .eml file into
#: ``MAIL_OUTBOX`` instead (development and tests).
MAIL_SERVER: str | None = None
MAIL_PORT = 587
MAIL_USE_TLS = True
MAIL_USERNAME: str | None = None
MAIL_PASSWORD: str | None = None
MAIL_TIMEOUT = 10
MAIL_DEFAULT_SENDER = "Neuvo <no-reply@localhost>"
#: Folder for .eml files when no MAIL_SERVER is set; None: ``<instance>/outbox``.
MAIL_OUTBOX: str | None = None
#: Queued mail: a failed attempt is retried after MAIL_RETRY_SECONDS, doubling each
#: time (at most two hours); after MAIL_MAX_ATTEMPTS attempts the message is given up
#: (about six hours of failures with these defaults).
MAIL_MAX_ATTEMPTS = 10
MAIL_RETRY_SECONDS = 60
#: Public address used in links sent by e-mail, e.g. "https://help.example.fi".
#: None takes the request's host, which is only safe behind a proxy that checks Host.
MAIL_BASE_URL: str | None = None
#: Host names the app answers besides MAIL_BASE_URL's (a list, or "a.example,b.example"). In
#: production every other Host header is refused with 400, so a forged one never reaches a
#: redirect or a link; outside production nothing is checked unless this is set.
TRUSTED_HOSTS: list[str] | None = None

# ---------- Contact form and e-mail intake

#: Contact-form POSTs per client address.
CONTACT_RATE_LIMIT = "5 per 10 minutes"
#: The contact form alone accepts bodies up to this size (three 5 MB attachments);
#: every other request keeps MAX_CONTENT_LENGTH.
CONTACT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024
#: Attachments (form and e-mail): at most this many files per message, each at most
#: this big, of these types judged from the bytes (not the name).
ATTACHMENT_MAX_FILES = 3
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")

#: IMAP mailbox polled by ``neuvo mail poll`` (SSL); unset host/user/password: not configured.
IMAP_HOST: str | None = None
IMAP_PORT = 993
IMAP_USERNAME: str | None = None
IMAP_PASSWORD: str | None = None
IMAP_FOLDER = "INBOX"
IMAP_TIMEOUT = 30

# ---------- Background worker (`neuvo worker`)

#: The worker refreshes the editors' suggested articles when the last run is older
#: than this many hours (and whenever an editor asks); 0: only when an editor asks.
SUGGEST_REFRESH_HOURS = 24
