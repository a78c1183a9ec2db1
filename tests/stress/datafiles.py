"""Import files of any size in the formats of DESIGN.md, for the load and fault runs.

Deterministic for a given seed, so a re-run imports the same rows. The text is made of
invented words that no demo article uses, so searches for the demo shop's words rank
the same while these rows are imported.
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

WORDS = {
    "fi": ["kalvoma", "tusirpa", "harjuka", "pylsemi", "rotikka", "vanumo", "selkari", "nupsaja", "tolmika",
           "heporo", "kiuvaka", "limperi", "sorvaki", "mutikko", "parjola", "jenkuri", "hovassa"],
    "sv": ["blimsa", "trovik", "knasel", "fjompa", "grolle", "snivik", "plonter", "drossa", "vrimla", "bjunke",
           "klatter", "smorva", "frinkel", "glamsa", "trubba", "skvilla", "brottla"],
    "en": ["blorpen", "quindle", "frazzet", "glimber", "snorvel", "plaxton", "drubble", "wivvet", "cromble",
           "zindle", "flurnish", "grumpel", "splondit", "vexley", "morlin", "tradge", "quopple"],
}
CATEGORIES = ("toimitus", "maksaminen", "palautukset")
SKUS = (("LIINA-150", "Pellavainen pöytäliina", "59,90"), ("KYNT-3", "Kynttilä 3 kpl", "14,90"),
        ("TYYNY-50", "Tyynynpäällinen 50×50", "24,90"))


def _sentence(rng: random.Random, language: str, words: int) -> str:
    return " ".join(rng.choice(WORDS[language]) for _ in range(words)).capitalize() + "."


def _write_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def article_rows(count: int, *, prefix: str = "kuorma", seed: int = 7, paragraphs: int = 4) -> list[dict]:
    """``count`` published articles ``<prefix>-<n>`` in fi/sv/en, each a few paragraphs long."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        language = ("fi", "sv", "en")[n % 3]
        body = "\n\n".join(" ".join(_sentence(rng, language, rng.randint(6, 14)) for _ in range(4))
                           for _ in range(paragraphs))
        rows.append({"slug": f"{prefix}-{n}", "title": f"{_sentence(rng, language, 4)[:-1]} {n}", "body": body,
                     "language": language, "category": CATEGORIES[n % len(CATEGORIES)],
                     "tags": [prefix, language]})
    return rows


def articles_file(path: Path, count: int, **options: object) -> Path:
    return _write_jsonl(path, article_rows(count, **options))  # type: ignore[arg-type]


def inquiry_rows(count: int, *, prefix: str = "KUORMA", seed: int = 11,
                 now: datetime | None = None) -> list[dict]:
    """``count`` customer inquiries with ids ``<prefix>-<n>`` over the last ten days."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    rows = []
    for n in range(count):
        language = ("fi", "sv", "en")[n % 3]
        rows.append({"id": f"{prefix}-{n:06d}",
                     "created_at": (now - timedelta(minutes=rng.randint(5, 14_400))).isoformat(),
                     "channel": ("email", "chat", "form")[n % 3], "subject": _sentence(rng, language, 4),
                     "body": " ".join(_sentence(rng, language, rng.randint(8, 20)) for _ in range(3)),
                     "language": language, "email": f"asiakas{n % 500}@example.org"})
    return rows


def inquiries_file(path: Path, count: int, **options: object) -> Path:
    return _write_jsonl(path, inquiry_rows(count, **options))  # type: ignore[arg-type]


def order_rows(count: int, *, prefix: str = "K", seed: int = 13, now: datetime | None = None) -> list[dict]:
    """``count`` orders ``<prefix><n>`` with one to three lines and their shop events."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    rows = []
    for n in range(count):
        placed = now - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 1440))
        lines = [{"sku": sku, "name": name, "quantity": rng.randint(1, 3), "unit_price": price}
                 for sku, name, price in rng.sample(SKUS, rng.randint(1, 3))]
        rows.append({"number": f"{prefix}{n:07d}", "email": f"asiakas{n % 500}@example.org", "status": "paid",
                     "placed_at": placed.isoformat(), "currency": "EUR", "lines": lines,
                     "events": [{"status": "paid", "at": (placed + timedelta(minutes=3)).isoformat()}]})
    return rows


def orders_file(path: Path, count: int, **options: object) -> Path:
    return _write_jsonl(path, order_rows(count, **options))  # type: ignore[arg-type]
