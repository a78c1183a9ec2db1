"""``neuvo run``: the development server, with the background jobs of ``neuvo worker`` beside it.

Everything the pages promise (the confirmation mail in ``instance/outbox/``, the editors'
suggested articles, the search index catching up) is done by the worker's jobs, so the
development server runs :func:`kb.worker.run_round` (the worker's own job list, whatever it
holds) in a daemon thread that ends with the server: on Ctrl+C, on SIGTERM, and when the
reloader restarts the serving process. With ``--reload`` only the serving child runs the
jobs, never the file watcher, so they are never started twice. Production runs gunicorn
and one ``neuvo worker`` instead (docs/deployment.md).

The generated secret key is kept in ``<instance>/secret_key`` (mode 0600), so a restart
does not log everyone out.
"""
from __future__ import annotations

import os
import secrets
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from flask import Flask

from kb.worker import JobOutcome, run_round

SECRET_KEY_FILE = "secret_key"

#: The name of the jobs thread (tests look for it).
JOBS_THREAD_NAME = "neuvo-jobs"


def persistent_secret_key(instance_path: str | os.PathLike[str]) -> str:
    """The development secret key stored in the instance folder, created (mode 0600) on first use."""
    path = Path(instance_path) / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise RuntimeError(f"{path} holds no usable secret key: delete it and start again") from None
        return key
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def serving_process(use_reloader: bool) -> bool:
    """Whether this process serves requests (and so runs the jobs): not the reloader's file watcher."""
    return not use_reloader or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


class BackgroundJobs:
    """The worker's rounds in a daemon thread, every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, app: Flask, *, interval: float, report: Callable[[JobOutcome], None]):
        self.app, self.interval, self.report = app, interval, report
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=JOBS_THREAD_NAME, daemon=True)

    def start(self) -> None:
        """Start the rounds (the first one at once)."""
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            for outcome in run_round(self.app):
                self.report(outcome)
            self._stopping.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to end after its current job; False if it is still busy after ``timeout``.

        A thread still busy (a long suggestion run) is a daemon: it ends with the process,
        and whatever it had not committed is rolled back by the database.
        """
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()


def terminate_like_ctrl_c(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM ends the server the way Ctrl+C does, so the jobs thread is stopped too."""
    raise KeyboardInterrupt


def install_sigterm_handler() -> None:
    """Make SIGTERM behave like Ctrl+C in this (main) thread."""
    signal.signal(signal.SIGTERM, terminate_like_ctrl_c)
