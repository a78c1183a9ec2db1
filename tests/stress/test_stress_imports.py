"""SIGKILL `neuvo import` in the middle of its write transaction: all or nothing, and a re-run imports once.

Each import runs against a private copy of the demo shop. The kill comes while the
command holds an open write transaction (SQLite's write lock taken; on PostgreSQL a
session whose transaction has written rows), then the rows are counted.
"""
from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.servers import Instance, PostgresServer, wait_until
from tests.stress.checks import rows, write_in_progress
from tests.stress.datafiles import articles_file, inquiries_file, orders_file

ROWS = 400


@dataclass(frozen=True)
class ImportKind:
    #: Writes a file of n rows in the import format.
    write: Callable[..., Path]
    #: Rows of this file in the database: (all rows, distinct keys).
    count_sql: str


KINDS = {
    "articles": ImportKind(articles_file,
                           "SELECT count(*), count(DISTINCT slug) FROM articles WHERE slug LIKE 'kuorma-%'"),
    "inquiries": ImportKind(inquiries_file,
                            "SELECT count(*), count(DISTINCT external_id) FROM tickets "
                            "WHERE external_id LIKE 'KUORMA-%'"),
    "orders": ImportKind(orders_file,
                         "SELECT count(*), count(DISTINCT number) FROM orders WHERE number LIKE 'K0%'"),
}


def kill_mid_write(instance: Instance, args: tuple[str, ...], pg: PostgresServer | None) -> str:
    """Start ``neuvo ARGS``, SIGKILL it while its write transaction is open; returns what it printed."""
    process = instance.start_neuvo(*args)
    try:
        assert wait_until(lambda: process.poll() is not None or write_in_progress(instance, pg), 120, 0.01), \
            "the import never began writing"
        assert process.poll() is None, "the import finished before it could be killed: use a larger file"
        time.sleep(0.1)  # inside the transaction: rows have been written, none committed
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == -signal.SIGKILL, f"exited {process.returncode} before the kill:\n{out}{err}"
    return out + err


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_killed_import_is_all_or_nothing_and_a_rerun_imports_once(kind: str, backend: str, demo_copy,
                                                                    tmp_path: Path, request) -> None:
    spec = KINDS[kind]
    instance = demo_copy(backend)
    pg = request.getfixturevalue("pg") if backend == "postgres" else None
    data = spec.write(tmp_path / f"{kind}.jsonl", ROWS)
    assert _counts(instance, spec) == (0, 0)

    kill_mid_write(instance, ("import", kind, str(data)), pg)

    total, distinct = _counts(instance, spec)
    assert total in (0, ROWS), f"a killed import left {total} of {ROWS} rows"
    assert distinct == total

    rerun = instance.neuvo("import", kind, str(data), check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert _counts(instance, spec) == (ROWS, ROWS)


def _counts(instance: Instance, spec: ImportKind) -> tuple[int, int]:
    total, distinct = rows(instance, spec.count_sql)[0]
    return int(total), int(distinct)
