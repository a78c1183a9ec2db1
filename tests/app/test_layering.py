"""The house rules on layering: plain libraries free of the web app, no import cycles, a command line
that never reaches into the views, folders small enough to read, and tests that share helpers only."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.import_graph import cycles, import_graph, python_modules

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("kb", "search", "suggest", "mailsplit")


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


def test_services_handle_no_requests() -> None:
    """Services stay free of request handling: the CLI and the worker use them too."""
    offenders = []
    for path in (ROOT / "kb" / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask" \
                    and any(alias.name in ("request", "session", "g") for alias in node.names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_no_import_cycles() -> None:
    """Every import counts, the ones inside functions too: a lazy import only hides a cycle."""
    graph = import_graph(ROOT, LAYERS)
    assert {"kb.services.editorial.gap_review", "kb.views.accounts.auth", "kb.cli.setup"} <= set(graph)
    assert "kb.services.helpcenter.search_index" in graph["kb.services.editorial.suggestions"]  # edges are read
    assert cycles(graph) == []


def test_the_command_line_never_imports_views() -> None:
    graph = import_graph(ROOT, LAYERS)
    cli = [module for module in graph if module == "kb.cli" or module.startswith("kb.cli.")]
    assert "kb.cli.suggest" in cli
    offenders = sorted((module, target) for module in cli for target in graph[module]
                       if target == "kb.views" or target.startswith("kb.views."))
    assert offenders == []


def test_no_folder_holds_more_than_fifteen_modules() -> None:
    """Packages by domain keep each folder readable at a glance (migrations are a list, not a design)."""
    folders: dict[Path, int] = {}
    for module in python_modules(ROOT, LAYERS + ("tests",)):
        if module.name != "__init__.py" and "versions" not in module.parts:
            folders[module.parent] = folders.get(module.parent, 0) + 1
    assert folders[ROOT / "kb" / "services" / "inquiries"] > 1  # the count is real
    crowded = {str(folder.relative_to(ROOT)): n for folder, n in folders.items() if n > 15}
    assert crowded == {}


def imported_modules(path) -> set[str]:
    """Every module a Python file imports, at any depth (relative imports resolved inside tests/)."""
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
    tests = ROOT / "tests"
    offenders = sorted(
        f"{path.relative_to(tests)} imports {module}"
        for path in tests.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[-1].startswith("test_") and module.startswith("tests.")
    )
    assert offenders == []
