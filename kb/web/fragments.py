"""Rendered template fragments kept per process, keyed by everything they show.

The contact channels on the home page are the costliest part of it to render (five
channels, each with a week of opening hours, weekday names and clock times in the
reader's locale) and change only when an admin edits a channel or the clock passes an
opening or closing time. The caller passes a key that holds every value the fragment
shows, so a cached fragment is never stale: a change makes a new key. Old keys age
out of a bounded, least-recently-used table.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from flask import render_template
from markupsafe import Markup


class FragmentCache:
    """``render_template`` output by (template, key), at most ``size`` entries per process."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, Hashable], Markup] = OrderedDict()

    def render(self, template: str, key: Hashable, **context: object) -> Markup:
        """The fragment for ``key``: rendered with ``context`` the first time, then from the table.

        ``key`` must determine everything the output shows, the reader's language included.
        """
        entry = (template, key)
        with self._lock:
            html = self._entries.get(entry)
            if html is not None:
                self._entries.move_to_end(entry)
                return html
        html = Markup(render_template(template, **context))  # noqa: S704  # nosec B704 # an autoescaped template
        with self._lock:
            self._entries[entry] = html
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return html
