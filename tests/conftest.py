"""Fixtures: apps on temporary instances (SQLite, or a real PostgreSQL server
started for the session), the demo shop, clients, the CLI runner and factories.

``NEUVO_TEST_DATABASE=postgresql`` (default ``sqlite``) puts every test's database on
PostgreSQL: the ``app``, the demo shop and the databases made by ``new_database``. Tests
marked ``sqlite_only`` are about SQLite itself and stay on it; ``both_backends`` tests run
only their PostgreSQL half then (the SQLite half is the default run's).
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine

from kb import create_app
from kb.db import commit, database, session, utcnow
from kb.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE = os.environ.get("NEUVO_TEST_DATABASE", "sqlite")
DEFAULT_BACKEND = {"sqlite": "sqlite", "postgresql": "postgres"}.get(TEST_DATABASE, "")
DEMO_DATABASE = "neuvo_demo"

# The session's PostgreSQL cluster and its databases; the multi-server fixtures; Chromium.
pytest_plugins = ("tests.fixtures.postgres_fixtures", "tests.fixtures.multinode_helpers", "tests.fixtures.browser_fixtures")


# Hypothesis: "ci" (set by .ci/run through NEUVO_HYPOTHESIS_PROFILE, or by a CI service's CI
# variable) derandomises every property test, so a failure in CI reproduces on the next run and
# a green run is the same run every time; "dev" explores new examples on each local run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev")
HYPOTHESIS_PROFILE = os.environ.get("NEUVO_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


def pytest_configure(config: pytest.Config) -> None:
    if not DEFAULT_BACKEND:
        raise pytest.UsageError(f"NEUVO_TEST_DATABASE must be 'sqlite' or 'postgresql', not {TEST_DATABASE!r}")


#: Fixtures through which a test's database follows NEUVO_TEST_DATABASE (``app``, ``demo_app``,
#: ``new_database``, ``node``... all depend on one of these).
RUN_DATABASE_FIXTURES = frozenset({"backend", "demo_template"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``db`` every test whose database is the run's: only those change when
    NEUVO_TEST_DATABASE=postgresql, so .ci/run's PostgreSQL stage selects them with ``-m db``."""
    for item in items:
        if RUN_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


#: The sentence encoder is off in tests unless a test is marked ``semantic``: embedding costs
#: tens to hundreds of milliseconds per text on two cores (about 45 s for the demo shop), and
#: only the semantic tests (tests/editorial/test_semantic.py, the first-run path of README
#: command 1) are about what it changes. Everything else is the TF-IDF path, which the product
#: also takes when the encoder is off or cannot load.
ENCODER_SETTING = "NEUVO_SUGGEST_SEMANTIC"


def semantic_mode(request: pytest.FixtureRequest) -> str:
    """``auto`` (the product's default) for a test marked ``semantic``, else ``off``."""
    return "auto" if request.node.get_closest_marker("semantic") else "off"


@pytest.fixture(autouse=True)
def _encoder_setting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoder setting of :func:`semantic_mode` for apps and for the commands and servers tests start."""
    monkeypatch.setenv(ENCODER_SETTING, semantic_mode(request))


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"test database: {TEST_DATABASE} (NEUVO_TEST_DATABASE)",
            f"hypothesis profile: {HYPOTHESIS_PROFILE} (NEUVO_HYPOTHESIS_PROFILE)"]


def _config(instance: Path, url: str, *, semantic: str = "off") -> dict:
    return {"SUGGEST_SEMANTIC": semantic,
        "TESTING": True, "ENV": "testing", "SECRET_KEY": "test-secret", "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url, "RATELIMIT_ENABLED": False, "SERVER_NAME": None,
        # the same Argon2id code path at a test-friendly cost (production cost is tested in test_auth)
        "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 8192,
    }


# ---------- SQLite templates: migrated once, copied per test

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "neuvo.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """An instance folder with the demo shop loaded and indexed, built once.

    On SQLite the database is the folder's neuvo.db; on PostgreSQL it is the template
    database ``DEMO_DATABASE``, which every ``demo_app`` copies."""
    from kb.services.shop.demo import load_demo
    from kb.services.shop.demo_history import search_history
    from kb.services.helpcenter.search_index import index
    from kb.services.editorial.suggestions import refresh_derived

    instance = tmp_path_factory.mktemp("demo-instance")
    if DEFAULT_BACKEND == "postgres":
        template = request.getfixturevalue("postgres_template")
        url = request.getfixturevalue("postgres_databases").create(DEMO_DATABASE, template=template)
    else:
        url = f"sqlite:///{instance / 'neuvo.db'}"
    app = create_app(_config(instance, url))
    with app.app_context():
        upgrade(database().engine)
        load_demo(session(), now=utcnow())
        refresh_derived(session(), index(), app.extensions["neuvo_matchers"], now=utcnow())
        search_history(session(), index(), now=utcnow())
        commit()
    database(app).dispose()
    return instance


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on: NEUVO_TEST_DATABASE's, or "sqlite"/"postgres" by indirect parametrization."""
    return getattr(request, "param", DEFAULT_BACKEND)


_postgres_half = pytest.param("postgres", marks=pytest.mark.postgres)
both_backends = pytest.mark.parametrize(
    "backend", [_postgres_half] if DEFAULT_BACKEND == "postgres" else ["sqlite", _postgres_half], indirect=True)

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
"""For tests about SQLite itself (pragmas, BEGIN IMMEDIATE, file locks): SQLite under every NEUVO_TEST_DATABASE."""


@pytest.fixture
def new_database(backend: str, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Factory: a new database for ``instance`` on the test's backend; returns its URL.

    Migrated to head unless ``migrated=False`` (then empty, as before ``neuvo init``). On
    SQLite it is the instance's default file, neuvo.db; on PostgreSQL a database of its own,
    dropped after the test."""

    def make(instance: Path, *, migrated: bool = True) -> str:
        instance.mkdir(parents=True, exist_ok=True)
        if backend == "postgres":
            template = request.getfixturevalue("postgres_template") if migrated else "template1"
            return request.getfixturevalue("throwaway_postgres")(template)
        if migrated:
            shutil.copy(request.getfixturevalue("sqlite_template"), instance / "neuvo.db")
        return f"sqlite:///{instance / 'neuvo.db'}"

    return make


@pytest.fixture
def app(tmp_path: Path, new_database: Callable[..., str], request: pytest.FixtureRequest):
    """An app on a fresh, migrated, empty database."""
    instance = tmp_path / "instance"
    app = create_app(_config(instance, new_database(instance), semantic=semantic_mode(request)))
    yield app
    database(app).dispose()


def copied_instance(template: Path, folder: Path, database_name: str, request: pytest.FixtureRequest) -> str:
    """Copy an instance folder built once to ``folder``; returns its database URL (on PostgreSQL a
    throwaway copy of the template database ``database_name``, on SQLite the copied file)."""
    shutil.copytree(template, folder)
    if DEFAULT_BACKEND == "postgres":
        return request.getfixturevalue("throwaway_postgres")(database_name)
    return f"sqlite:///{folder / 'neuvo.db'}"


@pytest.fixture
def demo_app(tmp_path: Path, demo_template: Path, request: pytest.FixtureRequest):
    """An app on a private copy of the demo shop (database, index and models), on NEUVO_TEST_DATABASE."""
    instance = tmp_path / "instance"
    url = copied_instance(demo_template, instance, DEMO_DATABASE, request)
    app = create_app(_config(instance, url, semantic=semantic_mode(request)))
    yield app
    database(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """The app's session inside an app context."""
    with app.app_context():
        yield session()


@pytest.fixture
def create_article(app):
    """Factory: create (or update) a published article and index it."""
    from kb.services.helpcenter.articles import ArticleInput, upsert_articles
    from kb.services.helpcenter.search_index import drain_outbox, index

    def make(slug: str = "toimitusajat", title: str = "Toimitusajat", body: str = "Toimitamme 1-3 arkipäivässä.",
             language: str = "fi", category: str = "toimitus", **extra) -> int:
        with app.app_context():
            upsert_articles(session(), [ArticleInput(slug=slug, title=title, body=body, language=language,
                                                     category=category, **extra)], now=utcnow())
            commit()
            drain_outbox(session(), index())
            commit()
            from sqlalchemy import select

            from kb.models import Article
            return session().scalar(select(Article.id).where(Article.slug == slug))

    return make


def wait_for(predicate, timeout: float = 5.0) -> bool:
    """Poll until ``predicate()`` is true (for processes started by a test)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def create_order(app):
    """Factory: an order (default: delivered yesterday, two lines) for ``email``; returns its number."""
    from datetime import timedelta

    from kb.models import Invoice, Order, OrderEvent, OrderLine, OrderStatus, Product

    counter = iter(range(100001, 199999))

    def make(email: str = "aino@example.com", status: str = "delivered", *, delivered_days_ago: float = 1,
             number: str | None = None) -> str:
        now = utcnow()
        number = number or str(next(counter))
        with app.app_context():
            db = session()
            order = Order(number=number, email=email.lower(), status=OrderStatus(status), currency="EUR",
                          placed_at=now - timedelta(days=delivered_days_ago + 3), shipping_cents=490,
                          shipping_address={"name": "Aino Virtanen", "street": "Hämeenkatu 1", "postal_code": "33100",
                                            "city": "Tampere", "country": "FI"},
                          carrier="Posti", tracking_code="JJFI6437200000012345")
            order.lines = [OrderLine(position=1, sku="LIINA-150", name="Pellavainen pöytäliina", quantity=2,
                                     unit_price_cents=5990, vat_rate_bp=2550),
                           OrderLine(position=2, sku="KYNT-3", name="Kynttilä 3 kpl", quantity=1,
                                     unit_price_cents=1490, vat_rate_bp=2550)]
            if status == "delivered":
                order.delivered_at = now - timedelta(days=delivered_days_ago)
                order.events = [OrderEvent(kind="delivered", at=order.delivered_at, source="shop")]
            db.add(order)
            if db.get(Product, 1) is None:
                db.add(Product(sku="TYYNY-50", name="Tyynynpäällinen 50×50", unit_price_cents=2490))
            db.flush()
            db.add(Invoice(order_id=order.id, number=f"L{number}", issued_at=order.placed_at,
                           lines=[{"sku": l.sku, "name": l.name, "quantity": l.quantity,
                                   "unit_price_cents": l.unit_price_cents, "vat_rate_bp": l.vat_rate_bp}
                                  for l in order.lines], shipping_cents=490))
            commit()
        return number

    return make


def translated(app, message: str, language: str = "fi", **values) -> str:
    """``message`` as the UI shows it in ``language`` (tests assert what the reader sees)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(language):
        return gettext(message, **values)


# ---------- staff and tickets (shared by the halves of tests/test_editor_*.py and tests/test_agent*.py)

@pytest.fixture
def make_staff(app):
    """Factory: a user with ``role``; returns the e-mail address (the editor tests' password)."""
    from kb.models import Role
    from tests.support.auth_helpers import create_account
    from tests.support.editor_helpers import PASSWORD

    def make(role: Role = Role.EDITOR, email: str | None = None) -> str:
        email = email or f"{role.value}@tupa.example"
        create_account(app, email, role, password=PASSWORD, language="fi")
        return email
    return make


@pytest.fixture
def editor(client, make_staff):
    """The test client, logged in as an editor through the log-in form."""
    from kb.models import Role
    from tests.support.auth_helpers import log_in
    from tests.support.editor_helpers import PASSWORD

    response = log_in(client, make_staff(Role.EDITOR), PASSWORD)
    assert response.status_code == 302
    return client


@pytest.fixture
def make_user(app):
    """Factory: a committed user of ``role``; returns the id (the agent tests' password)."""
    from kb.models import Role
    from tests.support.agent_helpers import PASSWORD
    from tests.support.auth_helpers import create_account

    def make(email: str, role: Role = Role.AGENT, *, name: str = "") -> int:
        return create_account(app, email, role, password=PASSWORD, name=name)
    return make


@pytest.fixture
def make_customer(app):
    """Factory: a committed customer (defaults: tests.support.auth_helpers.EMAIL and PASSWORD, Finnish); returns the id."""
    from tests.support.auth_helpers import customer_factory

    return customer_factory(app)


@pytest.fixture
def make_ticket(app):
    """Factory: a committed ticket (defaults: a Finnish form inquiry from Aino); returns the id."""
    from datetime import timedelta

    from kb.models import Ticket
    from kb.models.shop import ChannelKind
    from tests.support.agent_helpers import CUSTOMER

    counter = iter(range(1, 10_000))

    def make(**fields) -> int:
        n = next(counter)
        values = {"external_id": f"T-{n:06d}", "channel": ChannelKind.FORM, "subject": f"Kysymys {n}",
                  "body": "Missä pakettini on?", "language": "fi", "customer_email": CUSTOMER,
                  "customer_name": "Aino Virtanen", "inquiry_type": "delivery",
                  "created_at": utcnow() - timedelta(hours=n)}
        values.update(fields)
        with app.app_context():
            ticket = Ticket(**values)
            session().add(ticket)
            commit()
            return ticket.id
    return make


@pytest.fixture
def agent(app, client, make_user):
    """A logged-in agent (Liisa); returns her id."""
    from tests.support.agent_helpers import sign_in

    user_id = make_user("liisa@tupa.example", name="Liisa")
    sign_in(client, "liisa@tupa.example")
    return user_id


@pytest.fixture
def articles(app, create_article):
    """A Finnish original with an English translation, and a draft; returns their ids."""
    from kb.models import ArticleStatus

    fi = create_article(slug="tilauksen-seuranta", title="Tilauksen seuranta",
                        body="Seuraa pakettia **seurantakoodilla** Postin sivuilla. " * 10)
    en = create_article(slug="tracking-your-order", title="Tracking your order", language="en",
                        body="Follow your parcel with the tracking code on the carrier's site. " * 10,
                        translation_of="tilauksen-seuranta")
    draft = create_article(slug="luonnos", title="Luonnos", body="Ei vielä julki.", status=ArticleStatus.DRAFT)
    return {"fi": fi, "en": en, "draft": draft}
