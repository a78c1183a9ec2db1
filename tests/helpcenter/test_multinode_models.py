"""The suggester model shared by the worker processes of one app server: fitted by one process at
a time, picked up by the others as soon as it is saved (issue 7)."""
from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

from flask import Flask

from kb import create_app
from kb.db import database, session
from tests.fixtures.multinode_helpers import (
    DELIVERY,
    GIFT_CARDS,
    PAYMENT,
    Node,
    node_config,
    publish,
)


def _store(app: Flask, check_every: float = 3600):  # type: ignore[no-untyped-def]
    from kb.services.editorial.suggestions import MatcherStore

    return MatcherStore(app.config["MODELS_PATH"], check_every=check_every)


def _top(matcher, text: str) -> str | None:  # type: ignore[no-untyped-def]
    from kb.services.editorial.suggestions import rank_texts

    suggestions = rank_texts(matcher, [text], ["fi"], k=3)[0].suggestions
    return suggestions[0].slug if suggestions else None


def test_a_model_fitted_by_one_worker_is_used_by_the_others(node: Node) -> None:
    a = node("a")
    publish(a, DELIVERY, PAYMENT)
    first, second = _store(a), _store(a)  # two workers of one server
    fits: list[str] = []
    with a.app_context():
        assert _top(first.current(session(), progress=fits.append), "Voiko korttimaksulla maksaa?") == "maksutavat"
        assert _top(second.current(session(), progress=fits.append), "Voiko korttimaksulla maksaa?") == "maksutavat"
        assert len(fits) == 1  # the second worker loaded the first one's model
    publish(a, GIFT_CARDS)
    with a.app_context():
        first.expire()  # the worker that saved the article
        assert _top(first.current(session(), progress=fits.append), "Onko lahjakortti voimassa?") == "lahjakortit"
        # The other worker's check is not due yet, but it sees its sibling's new model at once.
        assert _top(second.current(session(), progress=fits.append), "Onko lahjakortti voimassa?") == "lahjakortit"
        assert len(fits) == 2


def test_while_one_worker_fits_the_others_serve_the_previous_model(node: Node) -> None:
    from search.locking import exclusive

    a = node("a")
    publish(a, DELIVERY, PAYMENT)
    store = _store(a, check_every=0)
    fits: list[str] = []
    with a.app_context():
        assert _top(store.current(session()), "Voiko korttimaksulla maksaa?") == "maksutavat"
    publish(a, GIFT_CARDS)
    with a.app_context():
        with exclusive(Path(a.config["MODELS_PATH"]) / ".fit.lock", 0) as held:  # a sibling is fitting
            assert held
            previous = store.current(session(), progress=fits.append)
            assert fits == [] and _top(previous, "Voiko korttimaksulla maksaa?") == "maksutavat"
            started_now = _store(a).current(session(), progress=fits.append)  # a worker started meanwhile
            assert fits == [] and _top(started_now, "Voiko korttimaksulla maksaa?") == "maksutavat"
        assert _top(store.current(session(), progress=fits.append), "Onko lahjakortti voimassa?") == "lahjakortit"
        assert len(fits) == 1


def _first_model(instance: str, url: str) -> tuple[bool, str | None]:
    """A worker starting on a server without a model: did it fit one, and what does it suggest?"""
    from kb.services.editorial.suggestions import MatcherStore

    app = create_app(node_config(Path(instance), url))
    fits: list[str] = []
    with app.app_context():
        matcher = MatcherStore(app.config["MODELS_PATH"]).current(session(), progress=fits.append)
        top = _top(matcher, "Voiko korttimaksulla maksaa?")
    database(app).dispose()
    return bool(fits), top


def test_workers_starting_together_fit_the_model_once(node: Node, shared_database: str) -> None:
    a = node("a")
    publish(a, DELIVERY, PAYMENT, GIFT_CARDS)
    shutil.rmtree(a.config["MODELS_PATH"], ignore_errors=True)
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.starmap(_first_model, [(a.instance_path, shared_database)] * 3)
    assert sorted(fitted for fitted, _ in results) == [False, False, True]
    assert {top for _, top in results} == {"maksutavat"}
