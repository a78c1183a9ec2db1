"""Static file URLs that change when the file does: ``/static/css/site.css?v=3f2a9c1e0b4d``.

Browsers and nginx may then keep a file as long as they like (deploy/nginx.conf: a year,
immutable): an upgrade that changes a stylesheet or a script changes its URL, so no returning
visitor runs new pages against an old script. The version is a hash of the file's bytes,
read once per process (in debug mode on every URL, so edits show at once).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "").resolve()

    def version(filename: str) -> str | None:
        path = (folder / filename).resolve()
        if folder not in path.parents or not path.is_file():
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]

    cached = lru_cache(maxsize=512)(version)

    @app.url_defaults
    def _version_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values and values.get("filename"):
            found = (version if app.debug else cached)(str(values["filename"]))
            if found:
                values["v"] = found
