"""Helpers for the tests generated from the URL map (tests/web/test_routes.py, tests/helpcenter/test_cache_headers.py)."""
from __future__ import annotations

import re


def fill(rule, values: dict[str, str]) -> str:
    """The rule's URL with each argument taken from ``values`` (default "1"; an ``any()`` converter's first choice)."""
    url = rule.rule
    for name in rule.arguments:
        choice = re.search(rf"<any\(([^,)]+)[^>]*\):{name}>", url)
        value = choice.group(1).strip() if choice else values.get(name, "1")
        url = re.sub(rf"<(?:[a-z]+(?:\([^>]*\))?:)?{name}>", value, url)
    return url
