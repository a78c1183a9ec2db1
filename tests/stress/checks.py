"""What the fault tests look at afterwards: rows in the database, the index against the database,
and whether a command is in the middle of its write transaction."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, inspect, text

from kb.services.mail.transport import read_outbox
from tests.fixtures.servers import Instance, PostgresServer


def rows(instance: Instance, sql: str, **params: Any) -> list[tuple]:
    """Run a read-only query on the instance's database."""
    engine = create_engine(instance.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params).all()]
    finally:
        engine.dispose()


def scalar(instance: Instance, sql: str, **params: Any) -> Any:
    return rows(instance, sql, **params)[0][0]


def index_check(instance: Instance) -> tuple[bool, str]:
    """``neuvo reindex --check``: (the index equals the published articles, what the command said)."""
    result = instance.neuvo("reindex", "--check", check=False, timeout=300)
    return result.returncode == 0, result.stdout + result.stderr


def assert_index_matches_database(instance: Instance) -> None:
    same, said = index_check(instance)
    assert same, f"the search index differs from the database:\n{said}"


def sqlite_write_locked(instance: Instance) -> bool:
    """True while another connection holds SQLite's write lock (a write transaction is open)."""
    path = instance.database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return True
        raise
    finally:
        conn.close()


def postgres_writer_active(server: PostgresServer, instance: Instance) -> bool:
    """True while a session on the instance's database has a transaction that has written rows."""
    database = instance.database_url.rsplit("/", 1)[1]
    return bool(server.query("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_xid IS NOT NULL",
                             (database,))[0][0])


def write_in_progress(instance: Instance, server: PostgresServer | None) -> bool:
    return postgres_writer_active(server, instance) if server is not None else sqlite_write_locked(instance)


def blocked_client_ports(server: PostgresServer, instance: Instance) -> list[int]:
    """Client ports of the sessions on the instance's database that wait for a lock."""
    database = instance.database_url.rsplit("/", 1)[1]
    return [port for (port,) in server.query(
        "SELECT client_port FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", (database,))]


@contextmanager
def held_row_lock(server: PostgresServer, instance: Instance, sql: str, *params: Any) -> Iterator[None]:
    """Hold the row locks taken by ``sql`` (``SELECT ... FOR UPDATE``) in an open transaction."""
    database = instance.database_url.rsplit("/", 1)[1]
    with server.connect(database, autocommit=False) as conn:
        locked = conn.execute(sql, params).fetchall()
        assert locked, f"nothing to lock: {sql} {params}"
        try:
            yield
        finally:
            conn.rollback()


def mails_for_ticket(instance: Instance, ticket_id: int, reference: str) -> int:
    """E-mails queued for the ticket (the mail queue table), or written to the outbox without one."""
    if "outgoing_mails" in inspect_tables(instance):
        return int(scalar(instance, "SELECT count(*) FROM outgoing_mails WHERE ticket_id = :i", i=ticket_id))
    return sum(1 for m in read_outbox(instance.path / "outbox") if f"[{reference}]" in str(m["Subject"]))


def inspect_tables(instance: Instance) -> set[str]:
    engine = create_engine(instance.database_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
