"""Every message of the interface is translated, and the compiled catalogs are the ones in the sources."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kb.views.error_text import _EXACT

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "kb" / "translations"


def _catalog(language: str, kind: str = "po"):
    path = TRANSLATIONS / language / "LC_MESSAGES" / f"messages.{kind}"
    with path.open("rb") as fh:
        return read_po(fh, locale=language) if kind == "po" else read_mo(fh)


def _extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "-o", str(pot), "--no-location", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_message_in_the_code_is_translated(tmp_path: Path, language: str) -> None:
    catalog = _catalog(language)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and (m.string if isinstance(m.string, str) else all(m.string))}
    assert sorted(_extracted(tmp_path) - translated) == []


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_compiled_catalog_matches_its_source(language: str) -> None:
    def entries(catalog) -> dict:
        return {_key(m.id): _key(m.string) for m in catalog if m.id and not m.fuzzy}

    assert entries(_catalog(language)) == entries(_catalog(language, "mo"))


def _key(value):
    return value if isinstance(value, str) else tuple(value)


def test_every_service_message_has_a_page_sentence() -> None:
    """The table's sentences are real msgids: none falls through to English in a Finnish page."""
    catalog = _catalog("fi")
    for message, sentence in _EXACT.items():
        msgid = sentence._args[0]  # flask-babel's LazyString keeps gettext's arguments
        found = catalog.get(msgid)
        assert found is not None and found.string, message
