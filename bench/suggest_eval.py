"""Run the shared suggester evaluation through the real `neuvo` CLI and record the scores.

Usage (from the repository root):
    .venv/bin/python bench/suggest_eval.py [--neuvo .venv/bin/neuvo] [--write]

Runs ``../shared/eval/suggest_eval.py all --neuvo ...`` twice, with the semantic signal (the
default, ``NEUVO_SUGGEST_SEMANTIC=auto``) and without it (``NEUVO_SUGGEST_SEMANTIC=off``), and
``--baseline`` for the plain TF-IDF reference; prints a Markdown table against the issue's targets
with the date and commit, and with ``--write`` replaces the block between the SUGGEST-EVAL markers
in README.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval" / "suggest_eval.py"
START, END = "<!-- SUGGEST-EVAL:START -->", "<!-- SUGGEST-EVAL:END -->"
COLUMNS = ("gap_recall", "false_gaps", "stale", "purity", "acc1", "acc3", "answered", "silent_ok")
TARGETS = {  # issue 13 (with the semantic signal)
    "bitext": {"gap_recall": ">= 0.8", "false_gaps": "<= 1", "stale": "= 0", "acc1": ">= 0.93",
               "acc3": ">= 0.98", "answered": ">= 0.8", "silent_ok": ">= 0.8"},
    "clinc150": {"gap_recall": ">= 0.8", "false_gaps": "<= 2", "acc1": ">= 0.85", "acc3": ">= 0.95"},
    "turku-fi": {"acc1": ">= 0.88"},
    "turku-sv": {"acc1": ">= 0.80"},
}
MODES = {"semantic": "auto", "off": "off"}


def run(args: list[str], semantic: str = "auto") -> dict[str, dict]:
    env = dict(os.environ, NEUVO_SUGGEST_SEMANTIC=semantic, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(EVAL), "all", *args], capture_output=True, text=True, check=True,
                         cwd=ROOT, env=env)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {row["scenario"]: row for row in rows}


def met(value: float | None, rule: str) -> str:
    if value is None:
        return ""
    op, limit = rule.split()
    ok = {">=": value >= float(limit), "<=": value <= float(limit), "=": value == float(limit)}[op]
    return "✓" if ok else "✗"


def table(products: dict[str, dict[str, dict]], baseline: dict[str, dict]) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    lines = [f"Measured {dt.date.today().isoformat()} at commit `{commit}` with "
             "`.venv/bin/python bench/suggest_eval.py` (product through the CLI, with the semantic signal and with "
             "`NEUVO_SUGGEST_SEMANTIC=off`; plain TF-IDF baseline in brackets; ✓/✗ against issue 13's targets).",
             "", "| scenario | mode | " + " | ".join(COLUMNS) + " | gaps s | attach s |",
             "|---" * (len(COLUMNS) + 4) + "|"]
    rows = [(name, mode) for name in ("bitext", "clinc150", "turku-fi", "turku-sv") for mode in products]
    for name, mode in rows:
        product = products[mode]
        row, base, targets = product.get(name, {}), baseline.get(name, {}), TARGETS.get(name, {})
        cells = []
        for column in COLUMNS:
            value = row.get(column)
            if value is None:
                cells.append("")
                continue
            mark = met(value, targets[column]) if column in targets else ""
            ref = f" ({base[column]})" if base.get(column) is not None else ""
            cells.append(f"{value}{ref} {mark}".strip())
        lines.append(f"| {name} | {mode} | " + " | ".join(cells) + f" | {row.get('gaps_s', '')} | {row.get('attach_s', '')} |")
    lines += ["", "Targets: " + "; ".join(f"{n}: " + ", ".join(f"{k} {v}" for k, v in t.items())
                                         for n, t in TARGETS.items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--neuvo", default=str(ROOT / ".venv" / "bin" / "neuvo"))
    parser.add_argument("--write", action="store_true", help="update the README block")
    parser.add_argument("--modes", default="semantic,off", help="comma-separated: semantic, off")
    args = parser.parse_args()
    products = {mode: run(["--neuvo", args.neuvo], MODES[mode]) for mode in args.modes.split(",")}
    text = table(products, run(["--baseline"]))
    print(text)
    if args.write:
        readme = ROOT / "README.md"
        content = readme.read_text(encoding="utf-8")
        if START in content:
            head, rest = content.split(START, 1)
            content = head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1]
        else:
            content = content.rstrip() + f"\n\n{START}\n{text}\n{END}\n"
        readme.write_text(content, encoding="utf-8")


if __name__ == "__main__":
    main()
