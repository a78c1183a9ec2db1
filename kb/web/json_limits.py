"""Request JSON with a depth limit, for every endpoint that reads a JSON body.

Python's parser recurses once per level of nesting: ``[[[…]]]`` a thousand deep raises
RecursionError, which is not a ValueError, so Flask's ``request.get_json`` let it through as
a 500. The app's JSON provider turns it, and anything nested deeper than
:data:`MAX_DEPTH` (no document of the API comes near it), into a ValueError, which
``get_json`` answers as a bad request.
"""
from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

#: Levels of arrays and objects a request body may have; the API's deepest document has 4.
MAX_DEPTH = 32


class JSONTooDeep(ValueError):
    """The document is nested deeper than :data:`MAX_DEPTH`."""


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` has more than ``limit`` levels of lists and dicts (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def loads_limited(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that raises JSONTooDeep (a ValueError) instead of RecursionError or deep documents."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise JSONTooDeep(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if depth_exceeds(value):
        raise JSONTooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, reading with :func:`loads_limited` (``request.get_json`` goes through it)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_limited(s, **kwargs)
