"""Reading import files (JSON Lines or CSV) into validated rows.

Every problem is reported as :class:`InvalidInput` naming the file, the line
and the field, before anything is written: callers validate the whole file and
only then change the database, so an import is all or nothing.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from kb.models import ArticleStatus
from kb.services.helpcenter.articles import LANGUAGES, ArticleInput, slugify
from kb.services.errors import InvalidInput

T = TypeVar("T")
Row = dict[str, Any]

ARTICLE_FIELDS = {"slug", "title", "body", "language", "category", "tags", "status", "translation_of"}
ARTICLE_REQUIRED = ("slug", "title", "language", "category")


def read_rows(path: str | Path) -> Iterator[tuple[int, Row]]:
    """Yield (line number, row) from a .jsonl or .csv file."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InvalidInput("file not found", source=source)
    suffix = path.suffix.lower()
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if suffix in (".jsonl", ".ndjson", ".json"):
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise InvalidInput(f"not valid JSON ({error.msg})", source=source, line=number) from None
                    if not isinstance(row, dict):
                        raise InvalidInput("each line must be a JSON object", source=source, line=number)
                    yield number, row
            elif suffix == ".csv":
                reader = csv.DictReader(handle)
                for row in reader:
                    if None in row:
                        raise InvalidInput("more values than columns", source=source, line=reader.line_num)
                    yield reader.line_num, {k: v for k, v in row.items() if k is not None}
            else:
                raise InvalidInput("unknown file type: use .jsonl or .csv", source=source)
    except UnicodeDecodeError:
        raise InvalidInput("file is not UTF-8 text", source=source) from None
    except csv.Error as error:
        raise InvalidInput(f"malformed CSV ({error})", source=source) from None


def load(path: str | Path, parse: Callable[[Row], T]) -> list[T]:
    """Parse every row of a file with ``parse``; the first error names file and line."""
    items = []
    for number, row in read_rows(path):
        try:
            items.append(parse(row))
        except InvalidInput as error:
            error.source, error.line = str(path), number
            error.args = (error.describe(),)
            raise
    return items


def check_fields(row: Row, known: set[str], required: tuple[str, ...]) -> None:
    for name in row:
        if name not in known and not name.startswith("_"):
            raise InvalidInput("unknown column", field=name)
    for name in required:
        if text(row, name) == "":
            raise InvalidInput("is required", field=name)


def text(row: Row, name: str, *, max_length: int | None = None) -> str:
    value = row.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidInput("must be text", field=name)
    value = str(value).strip()
    if "\x00" in value:
        raise InvalidInput("contains a NUL character", field=name)
    if max_length and len(value) > max_length:
        raise InvalidInput(f"longer than {max_length} characters", field=name)
    return value


def string_list(row: Row, name: str) -> list[str]:
    """A list given as a JSON list or a comma-separated string."""
    value = row.get(name)
    if value in (None, ""):
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        raise InvalidInput("must be a list of strings or comma-separated text", field=name)
    if any("\x00" in v for v in items):
        raise InvalidInput("contains a NUL character", field=name)
    return [v.strip() for v in items if v.strip()]


#: Years a shop's date-times may have: far enough from datetime's limits that converting to UTC
#: and adding payment terms never overflow ("0001-01-01T00:00+01:00" is before year 1 in UTC).
YEARS = range(1900, 3000)


def timestamp(row: Row, name: str) -> datetime:
    """ISO 8601; a time without a zone is UTC."""
    value = text(row, name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 date-time: {value!r}", field=name) from None
    if parsed.year not in YEARS:
        raise InvalidInput(f"the year must be from {YEARS.start} to {YEARS.stop - 1}", field=name)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def choice(row: Row, name: str, options: tuple[str, ...], default: str | None = None) -> str:
    value = text(row, name).lower() or (default or "")
    if value not in options:
        raise InvalidInput(f"must be one of {', '.join(options)}", field=name)
    return value


def parse_article(row: Row) -> ArticleInput:
    """One article row of the import format in DESIGN.md."""
    check_fields(row, ARTICLE_FIELDS, ARTICLE_REQUIRED)
    slug = text(row, "slug", max_length=200)
    if slugify(slug) != slug:
        raise InvalidInput("use lowercase letters, digits and hyphens", field="slug")
    translation_of = text(row, "translation_of") or None
    if translation_of == slug:
        raise InvalidInput("an article cannot translate itself", field="translation_of")
    return ArticleInput(
        slug=slug,
        title=text(row, "title", max_length=500),
        body=text(row, "body", max_length=200_000),
        language=choice(row, "language", LANGUAGES),
        category=text(row, "category", max_length=80),
        tags=string_list(row, "tags"),
        status=ArticleStatus(choice(row, "status", tuple(s.value for s in ArticleStatus), "published")),
        translation_of=translation_of,
    )


def check_unique(items: list[T], key: Callable[[T], str], field: str, source: str) -> None:
    seen: set[str] = set()
    for item in items:
        value = key(item)
        if value in seen:
            raise InvalidInput(f"'{value}' appears twice in the file", field=field, source=source)
        seen.add(value)
