"""Helpers for tests that run the `neuvo` command line: the installed script and JSON-lines files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

NEUVO = shutil.which("neuvo", path=str(Path(sys.executable).parent)) or "neuvo"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def neuvo_env(instance: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of the installed script on ``instance``: none of the session's NEUVO_* settings
    but the test's encoder setting (tests/conftest.py), and ``database_url`` when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUVO_") or k == "NEUVO_SUGGEST_SEMANTIC"}
    env.update(NEUVO_INSTANCE_PATH=str(instance))
    if database_url is not None:
        env.update(NEUVO_DATABASE_URL=database_url)
    return env


def run_neuvo(instance: Path, *args: str, stdin: str | None = None,
              database_url: str | None = None) -> subprocess.CompletedProcess:
    """The installed script on ``instance`` (and ``database_url``; default: the instance's SQLite file)."""
    return subprocess.run([NEUVO, *args], env=neuvo_env(instance, database_url), capture_output=True, text=True,
                          input=stdin, timeout=300, check=False)
