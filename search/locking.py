"""One writer at a time per machine: an exclusive ``flock`` on a file.

Contract: :func:`exclusive` yields True while this process (thread) holds the
lock on ``path`` and False when it could not get it within ``timeout`` seconds
(0: try once). Each acquisition opens the file anew, so threads of one process
exclude each other as processes do; the kernel drops the lock when its holder
exits or is killed, so a crash never leaves it held. ``flock`` is local to a
machine: the folder must be on a local disk, one per app server.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: How often a waiting process retries.
POLL_SECONDS = 0.05


@contextmanager
def exclusive(path: str | os.PathLike, timeout: float) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block."""
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        held = _acquire(fd, timeout)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, timeout: float) -> bool:
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
