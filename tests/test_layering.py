"""The house rules on layering, checked in fresh interpreters."""
from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["search", "suggest", "mailsplit"])
def test_library_imports_no_web_or_database_code(package: str) -> None:
    code = (
        f"import sys, pkgutil, importlib; import {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'): importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'kb', 'werkzeug'))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_views_are_the_only_flask_blueprints() -> None:
    """Services stay free of request handling (they may be used from the CLI)."""
    import pathlib

    services = pathlib.Path(__file__).resolve().parent.parent / "kb" / "services"
    offenders = [p.name for p in services.glob("*.py")
                 if "from flask import" in p.read_text() and "request" in p.read_text().split("from flask import", 1)[1].split("\n", 1)[0]]
    assert offenders == []
