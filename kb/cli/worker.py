"""``neuvo worker``: the background work in rounds, beside gunicorn in production."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit (status 1 if a job failed).")
@click.option("--interval", default=60.0, show_default=True, type=click.FloatRange(0.1, 86_400),
              help="Seconds between rounds.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Background work in rounds: send mail, poll IMAP, update the search index, refresh suggested articles."""
    from kb.worker import JobOutcome, Worker

    def report(outcome: JobOutcome) -> None:
        if outcome.summary is not None or once:
            click.echo(f"[{outcome.job}] {outcome.summary or 'nothing to do'}", err=outcome.failed)

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not once:
        click.echo(f"Neuvo worker: a round every {interval:g} s (SIGTERM or Ctrl+C ends it after the round)")
    ok = Worker(app, interval=interval, report=report).run(once=once)
    if not once:
        click.echo("Neuvo worker stopped")
    elif not ok:
        sys.exit(1)
