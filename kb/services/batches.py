"""Statements over many keys, cut into batches that every database accepts.

PostgreSQL's wire protocol carries at most 65,535 parameters per statement (SQLite
builds allow 32,766 or 250,000), so ``column.in_(keys)`` over a whole import file fails
once a shop imports that many rows at once.  Import paths look keys up and delete rows
through :func:`batched` instead.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Keys per statement: far under every database's limit, large enough that a
#: 100,000-row import needs only 20 round trips.
BATCH_SIZE = 5000


def batched(values: Iterable[T], size: int | None = None) -> Iterator[Sequence[T]]:
    """Successive lists of at most ``size`` (default :data:`BATCH_SIZE`) values, in order."""
    size = size or BATCH_SIZE
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
