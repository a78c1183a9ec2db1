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


def imported_modules(path) -> set[str]:
    """Every module a Python file imports, at any depth (relative imports resolved inside tests/)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ("tests." if node.level else "") + (node.module or "")
            found.add(base.rstrip("."))
            found.update(f"{base}.{alias.name}".lstrip(".") for alias in node.names)
    return found


def test_test_modules_import_helpers_never_other_test_modules() -> None:
    """Shared helpers live in tests/*_helpers.py (and fixtures in conftest or its plugins): importing a
    test module runs its module code and ties two test files together, and pytest may collect both."""
    import pathlib

    tests = pathlib.Path(__file__).resolve().parent
    offenders = sorted(
        f"{path.relative_to(tests)} imports {module}"
        for path in tests.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[-1].startswith("test_") and module.startswith("tests.")
    )
    assert offenders == []
