"""Helpers shared by the ``neuvo`` command modules (:mod:`kb.cli`, :mod:`kb.cli.imports`)."""
from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from kb.db import session
from kb.services.errors import DomainError, InvalidInput

EXIT_BAD_INPUT = 2


def domain_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one clear message and exit status 2; nothing is committed."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InvalidInput as error:
            click.echo(f"Error: {error.describe()}", err=True)
        except DomainError as error:
            click.echo(f"Error: {error}", err=True)
        session().rollback()
        sys.exit(EXIT_BAD_INPUT)

    return wrapper


@contextlib.contextmanager
def from_file(path: str) -> Iterator[None]:
    """Name ``path`` in a domain error raised while its rows are written (validation already names it)."""
    try:
        yield
    except InvalidInput as error:
        error.source = path
        raise


def progress(message: str) -> None:
    click.echo(f"… {message}", err=True)
