"""Database wiring: one engine per app, one session per app context.

Views and CLI commands get the session with :func:`session`, call services
(which flush but never commit) and finish with :func:`commit`, which also runs
the work registered with :func:`after_commit` (such as index updates), so
derived data never gets ahead of the database.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and always returned timezone-aware.

    SQLite keeps no zone, PostgreSQL ``timestamp`` neither; converting at the
    boundary keeps comparisons in Python correct on both.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def enum_column(enum_class: type[enum.Enum]) -> Enum:
    """A status-like enum stored by its value as VARCHAR(16), portable across SQLite and PostgreSQL."""
    return Enum(enum_class, native_enum=False, length=16, values_callable=lambda e: [str(m.value) for m in e])


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE.

    Deferred SQLite transactions that read and then write fail with "database is
    locked" under concurrency even with WAL (RELIABILITY.md); taking the write
    lock at BEGIN makes writers queue behind the busy timeout instead.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


class Database:
    """The engine and session factory of one app, kept in ``app.extensions``."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Flask) -> None:
    app.extensions["neuvo_db"] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["neuvo_db"]


def session() -> Session:
    """The session of the current app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessions()
        g.after_commit = []
    return g.db_session


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current session's transaction has committed."""
    session()
    if callback not in g.after_commit:
        g.after_commit.append(callback)


def commit() -> None:
    """Commit the context's session, then run the registered after-commit work."""
    session().commit()
    callbacks, g.after_commit = g.after_commit, []
    for callback in callbacks:
        callback()


def _close_session(exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    g.pop("after_commit", None)
    if db_session is not None:
        if exc is not None:
            db_session.rollback()
        db_session.close()
