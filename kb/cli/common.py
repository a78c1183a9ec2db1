"""Helpers shared by the ``neuvo`` command modules (:mod:`kb.cli`, :mod:`kb.cli.imports`)."""
from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from kb.db import session
from kb.services.editorial.suggestions import matchers
from kb.services.errors import DomainError, InvalidInput
from suggest.semantic import EncoderUnavailable

EXIT_BAD_INPUT = 2


def domain_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into one clear message and exit status 2; nothing is committed."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InvalidInput as error:
            click.echo(f"Error: {error.describe()}", err=True)
        except (DomainError, EncoderUnavailable) as error:
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


def prepare_vectors() -> int:
    """Embed the shop's texts that have no vector yet (progress bar on stderr) and commit them.

    The command line answers with the semantic signal for every stored text; the vectors are
    derived data, kept even when the command itself changes nothing else.
    """
    from kb.services.editorial.text_vectors import embed_missing, missing_texts

    encoder = matchers().encoder()
    if encoder is None:
        return 0
    db = session()
    texts = missing_texts(db, encoder)
    if texts:
        with vector_bar(len(texts)) as bar:
            embed_missing(db, encoder, texts=texts, progress=bar)
        db.commit()
    return len(texts)


@contextlib.contextmanager
def vector_bar(total: int) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing "Embedding texts" on stderr (nothing when total is 0)."""
    if not total:
        yield lambda done, _total: None
        return
    with click.progressbar(length=total, label="Embedding texts", file=sys.stderr) as bar:
        yield lambda done, _total: bar.update(done - bar.pos)


def embed_for_answer(texts: list[str]):  # type: ignore[no-untyped-def]
    """Encoder rows for texts to rank now: stored ones read, others computed (progress bar), none stored."""
    from kb.services.editorial.text_vectors import ensure_vectors, lookup
    from suggest.semantic import text_key

    encoder = matchers().encoder()
    if encoder is None:
        return None
    found = lookup(session(), encoder, texts)
    missing = len({t for t in texts if text_key(t, encoder.name) not in found})
    with vector_bar(missing) as bar:
        return ensure_vectors(session(), encoder, texts, store=False, progress=bar)


def progress(message: str) -> None:
    click.echo(f"… {message}", err=True)
