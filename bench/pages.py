#!/usr/bin/env python3
"""Help-center page speed of this checkout against an older commit, measured side by side.

For each of two code trees (this checkout, and ``--against COMMIT`` checked out with
``git worktree add --detach`` into a temporary folder) the script:

1. prepares a demo shop through that tree's own CLI (``neuvo init``, ``neuvo demo``);
2. measures in process, with the Flask test client (no cookies, as a first-time
   visitor), the median time of each page kind: home, category, article, search
   page and ``/api/v1/search`` (``--rounds`` requests each, over several categories,
   articles and queries, after a warm-up round);
3. unless ``--no-load``, runs ``bench/load.py --during none`` (gunicorn workers and
   HTTP clients; this checkout's script, copied into the older tree, so both are
   driven by the same generator) from inside that tree on each ``--backend``.

The trees run one after the other, old first, so both see the same machine; the load
average before each run is printed, since the machine is shared. The code of a tree is
picked by ``PYTHONPATH`` and the working directory (this virtualenv's packages serve
both; the older commit must not need packages this one lacks).

Usage:
  .venv/bin/python bench/pages.py [--against 6c66acc] [--rounds 200] [--backend sqlite]
      [--backend postgres] [--duration 30] [--no-load]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
KINDS = ("home", "category", "article", "search", "api_search")
#: The whole mix's row of bench/load.py's table: requests, req/s, p50, p95, p99, errors.
ALL_ROW = re.compile(r"^\| \*\*all\*\* \| (\d+) \| ([\d.]+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", re.MULTILINE)
GENERATOR_CPU = re.compile(r"The load generator \(this script's client threads\) used ([\d.]+ s of CPU in \d+ s)")


# ---------- in process (runs inside a child whose sys.path starts with the tree)

def measure_inprocess(instance: Path, rounds: int) -> dict[str, float]:
    """Median milliseconds per page kind on the demo instance at ``instance``."""
    from sqlalchemy import select

    from kb import create_app
    from kb.db import database, session
    from kb.models import Article, ArticleStatus, Category

    app = create_app({"TESTING": False, "ENV": "testing", "SECRET_KEY": "bench-secret",
                      "INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{instance / 'neuvo.db'}",
                      "RATELIMIT_ENABLED": False, "SERVER_NAME": None})
    with app.app_context():
        db = session()
        slugs = list(db.scalars(select(Article.slug).where(Article.language == "fi",
                                                           Article.status == ArticleStatus.PUBLISHED)
                                .order_by(Article.id)))
        categories = list(db.scalars(select(Category.slug).order_by(Category.position)))
        titles = list(db.scalars(select(Article.title).where(Article.language == "fi").order_by(Article.id)))
    words = [w for t in titles for w in re.findall(r"\w{5,}", t.lower())][:40]
    paths = {
        "home": ["/fi/", "/sv/", "/en/"],
        "category": [f"/fi/c/{c}" for c in categories],
        "article": [f"/fi/a/{s}" for s in slugs[:20]],
        "search": [f"/fi/search?q={w}" for w in words[:20]],
        "api_search": [f"/api/v1/search?lang=fi&as_you_type=1&q={w[:4]}" for w in words[:20]],
    }
    client = app.test_client(use_cookies=False)
    medians = {}
    for kind in KINDS:
        for path in paths[kind]:  # warm-up: templates compiled, caches filled
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        times = []
        for n in range(rounds):
            path = paths[kind][n % len(paths[kind])]
            start = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - start)
        medians[kind] = statistics.median(times) * 1000
    database(app).dispose()
    return medians


# ---------- driving the trees

def tree_env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUVO_")}
    env["PYTHONPATH"] = str(tree)
    # no page reads the sentence encoder; off, the demo shops are ready in seconds, not a minute
    env["NEUVO_SUGGEST_SEMANTIC"] = "off"
    return env


def prepare(tree: Path, instance: Path) -> None:
    """A demo shop made by the tree's own CLI."""
    env = {**tree_env(tree), "NEUVO_INSTANCE_PATH": str(instance), "NEUVO_ENV": "development"}
    for args in (["init"], ["demo"]):
        subprocess.run([str(PYTHON.parent / "neuvo"), *args], env=env, cwd=tree, check=True,
                       capture_output=True, text=True)


def inprocess(tree: Path, instance: Path, rounds: int) -> dict[str, float]:
    result = subprocess.run([str(PYTHON), str(Path(__file__).resolve()), "--child", str(instance),
                             "--rounds", str(rounds)], env=tree_env(tree), cwd=tree, check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def load(tree: Path, backend: str, duration: float) -> dict[str, float | str]:
    """The tree's bench/load.py on ``backend``; its whole-mix row."""
    started = os.getloadavg()[0]
    result = subprocess.run([str(PYTHON), "bench/load.py", "--backend", backend, "--during", "none",
                             "--duration", str(duration)], env=tree_env(tree), cwd=tree,
                            capture_output=True, text=True, check=False)
    row = ALL_ROW.search(result.stdout)
    if row is None:
        raise RuntimeError(f"bench/load.py in {tree} printed no figures:\n{result.stdout}\n{result.stderr[-3000:]}")
    cpu = GENERATOR_CPU.search(result.stdout)
    return {"requests": int(row[1]), "rps": float(row[2]), "p50": int(row[3]), "p99": int(row[5]),
            "errors": int(row[6]), "load_before": started, "load_after": os.getloadavg()[0],
            "generator_cpu": cpu[1] if cpu else "not reported by this commit's bench/load.py"}


def commit_of(tree: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True,
                          check=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="6c66acc", help="the older commit to compare with")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgres"))
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--no-load", action="store_true", help="only the in-process medians")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_inprocess(args.child, args.rounds)))
        return 0
    backends = args.backend or ["sqlite"]
    with tempfile.TemporaryDirectory(prefix="neuvo-pages-") as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old_tree), args.against], cwd=ROOT, check=True,
                       capture_output=True)
        # the same load generator for both (this one reports its own CPU); it serves the tree it lies in
        shutil.copy(ROOT / "bench" / "load.py", old_tree / "bench" / "load.py")
        # with the server helpers it imports, which have moved since older commits
        shutil.copytree(ROOT / "tests" / "fixtures", old_tree / "tests" / "fixtures", dirs_exist_ok=True)
        shutil.copy(ROOT / "tests" / "stress" / "datafiles.py", old_tree / "tests" / "stress" / "datafiles.py")
        try:
            trees = {"old": old_tree, "new": ROOT}
            names = {k: commit_of(t) for k, t in trees.items()}
            pages, loads = {}, {}
            for key, tree in trees.items():
                instance = Path(tmp) / f"instance-{key}"
                prepare(tree, instance)
                pages[key] = inprocess(tree, instance, args.rounds)
                print(f"{key} ({names[key]}) in process, load average {os.getloadavg()[0]:.2f}: "
                      + ", ".join(f"{k} {v:.2f} ms" for k, v in pages[key].items()), flush=True)
            if not args.no_load:
                for backend in backends:
                    for key, tree in trees.items():
                        loads[(backend, key)] = load(tree, backend, args.duration)
                        print(f"{key} ({names[key]}) load on {backend}: {loads[(backend, key)]}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT, check=False,
                           capture_output=True)
    print()
    print(f"| page, median of {args.rounds} (ms) | {names['old']} | {names['new']} | speed-up |")
    print("|---|---|---|---|")
    for kind in KINDS:
        old, new = pages["old"][kind], pages["new"][kind]
        print(f"| {kind} | {old:.2f} | {new:.2f} | {old / new:.1f}× |")
    for backend in backends if not args.no_load else ():
        old, new = loads[(backend, "old")], loads[(backend, "new")]
        print()
        print(f"bench/load.py --backend {backend} --during none --duration {args.duration:g}")
        print(f"| | {names['old']} | {names['new']} | ratio |")
        print("|---|---|---|---|")
        print(f"| req/s | {old['rps']:.1f} | {new['rps']:.1f} | {new['rps'] / old['rps']:.2f}× |")
        print(f"| p50 ms | {old['p50']} | {new['p50']} | |")
        print(f"| p99 ms | {old['p99']} | {new['p99']} | |")
        print(f"| errors | {old['errors']} | {new['errors']} | |")
        print(f"| load average (1 min) before / after | {old['load_before']:.2f} / {old['load_after']:.2f} "
              f"| {new['load_before']:.2f} / {new['load_after']:.2f} | |")
        print(f"| load generator CPU | {old['generator_cpu']} | {new['generator_cpu']} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
