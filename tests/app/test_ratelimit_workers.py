"""Rate limits hold exactly with several gunicorn workers sharing a Redis counter.

Flask-Limiter keeps counters per process unless NEUVO_RATELIMIT_STORAGE_URI names a
shared store: with ``memory://`` and four workers a limit of 10 lets through up to 40
(RELIABILITY.md), as the control test below shows. Here a real ``gunicorn -w 4`` runs
on a private redis-server; requests are sent in parallel so several workers answer
them (gunicorn's access log names the worker), and each limit lets through exactly
the configured number. Every client gets an address of its own on the loopback
network (127.0.0.x), because the per-client limits are keyed on the address.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from limits import parse
from requests.adapters import HTTPAdapter

from kb import config
from tests.fixtures.servers import Gunicorn, Instance, gunicorn, prepare_instance, redis_server

EMAIL, PASSWORD = "asiakas@example.fi", "oikea salasana 2026"
WORKERS = 4
ACCESS_LOG = ("--access-logfile", "-", "--access-logformat", "access %(p)s %(m)s %(U)s %(s)s")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def allowed(limit: str) -> int:
    """How many requests a limit string such as "10 per minute" lets through in its window."""
    return parse(limit).amount


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        if os.environ.get("NEUVO_REQUIRE_REDIS"):
            pytest.fail("redis-server is required (NEUVO_REQUIRE_REDIS) but not installed")
        pytest.skip("redis-server not installed (Debian package redis-server); CI installs it")
    with redis_server() as server:
        yield server.url


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    """An instance with one customer account, made with the real command line."""
    made = prepare_instance(tmp_path_factory.mktemp("limits") / "instance", demo=False,
                            settings={"NEUVO_PASSWORD_HASH_TIME_COST": "1", "NEUVO_PASSWORD_HASH_MEMORY_COST": "8192"})
    made.neuvo("user", "add", EMAIL, "--role", "customer", "--password-stdin", input=PASSWORD + "\n")
    return made


@pytest.fixture(scope="module")
def shared(instance: Instance, redis_url: str) -> Iterator[Gunicorn]:
    """Four workers counting in one Redis."""
    with gunicorn(instance, workers=WORKERS, env={"NEUVO_RATELIMIT_STORAGE_URI": redis_url}, args=ACCESS_LOG) as server:
        yield server


class _FromAddress(HTTPAdapter):
    """Connect from a given loopback address, so the app sees a client of its own."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Client:
    """A browser at ``address``: a session cookie and the CSRF token of one form page."""

    def __init__(self, server: Gunicorn, address: str, form_page: str):
        self.server, self.http = server, requests.Session()
        self.http.mount("http://", _FromAddress(address))
        page = self.http.get(server.base_url + form_page, timeout=30)
        assert page.status_code == 200, page.status_code
        self.token = CSRF.search(page.text).group(1)

    def post(self, path: str, data: dict[str, str]) -> int:
        return self.http.post(self.server.base_url + path, data={**data, "csrf_token": self.token},
                              allow_redirects=False, timeout=60).status_code


_next_address = iter(range(2, 250))


def new_address() -> str:
    """A loopback address no earlier test used (each test's client starts with empty counters)."""
    return f"127.0.0.{next(_next_address)}"


def in_parallel(calls: list, threads: int = WORKERS) -> list[int]:  # type: ignore[type-arg]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda call: call(), calls))


def workers_that_answered(server: Gunicorn, path: str) -> set[str]:
    return set(re.findall(rf"^access <(\d+)> POST {re.escape(path)} \d+$", server.log, re.MULTILINE))


def test_login_limit_per_client_is_exact_across_workers(shared: Gunicorn) -> None:
    limit = allowed(config.LOGIN_RATE_LIMIT)
    client = Client(shared, new_address(), "/auth/login")
    # a different (unknown) address each time: only the per-client limit is in play
    calls = [lambda n=n: client.post("/auth/login", {"email": f"nobody{n}@example.fi", "password": "väärin"})
             for n in range(limit + 6)]
    statuses = in_parallel(calls)
    assert sorted(statuses) == [200] * limit + [429] * 6, statuses
    assert len(workers_that_answered(shared, "/auth/login")) >= 2, shared.log


def test_failed_logins_lock_the_account_exactly_across_workers_and_clients(shared: Gunicorn) -> None:
    limit = allowed(config.LOGIN_FAILURE_LIMIT)
    clients = [Client(shared, new_address(), "/auth/login") for _ in range(limit + 3)]
    statuses = in_parallel([lambda c=c: c.post("/auth/login", {"email": EMAIL, "password": "väärin"})
                            for c in clients])
    assert sorted(statuses) == [200] * limit + [429] * 3, sorted(statuses)
    # the right password from yet another client: the address stays locked for the window
    assert Client(shared, new_address(), "/auth/login").post(
        "/auth/login", {"email": EMAIL, "password": PASSWORD}) == 429


def test_guest_order_lookup_limit_is_exact_across_workers(shared: Gunicorn) -> None:
    limit = 10  # kb/views/account.py: "10 per 10 minutes" per client
    client = Client(shared, new_address(), "/fi/tilaus/seuranta")
    # a new address and number each time: the per-address and per-number limits (5) stay out of the way
    calls = [lambda n=n: client.post("/fi/tilaus/seuranta", {"number": f"9{n:05d}", "email": f"a{n}@example.fi"})
             for n in range(limit + 5)]
    statuses = in_parallel(calls)
    assert sorted(statuses) == [400] * limit + [429] * 5, statuses  # 400: "no such order", no hint which
    assert len(workers_that_answered(shared, "/fi/tilaus/seuranta")) >= 2, shared.log


def test_per_process_counters_would_let_through_more(instance: Instance) -> None:
    """The control: the same requests to two workers counting in memory exceed the limit (the trap guarded here)."""
    limit = allowed(config.LOGIN_RATE_LIMIT)
    with gunicorn(instance, workers=2, env={"NEUVO_RATELIMIT_STORAGE_URI": "memory://"}, args=ACCESS_LOG) as server:
        client = Client(server, new_address(), "/auth/login")
        statuses = in_parallel([lambda n=n: client.post("/auth/login", {"email": f"x{n}@example.fi", "password": "x"})
                                for n in range(limit + 6)])
        if len(workers_that_answered(server, "/auth/login")) < 2:
            pytest.skip("one worker happened to answer every request; nothing to compare")
    assert statuses.count(200) > limit, statuses
