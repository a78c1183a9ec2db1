#!/usr/bin/env python3
"""Load on the public help center under real gunicorn workers, optionally while writes run.

Prepares a demo instance through the real CLI (``neuvo init``, ``neuvo demo``) on SQLite
or on a private PostgreSQL cluster, serves it with ``gunicorn -w WORKERS "kb:create_app()"``
on loopback, and sends a mix of help-center requests from CONCURRENCY threads for
DURATION seconds:

* home pages ``/fi/``, ``/sv/``, ``/en/``;
* searches ``/<lang>/search?q=...``: words of the demo articles' titles in their own
  language, a third of them misspelt (a letter dropped, doubled or swapped);
* article pages ``/<lang>/a/<slug>``;
* search as you type ``/api/v1/search?as_you_type=1&lang=..&q=<prefix>``, as the page's
  script sends it.

Every answer is checked: status 2xx/3xx and the content a reader needs (the article's
title, the results list, JSON with results); anything else, or a connection error, is
an error. ``--during import|reindex|both`` runs ``neuvo import articles`` of a generated
file (``--import-size`` articles, new on the first round and updated on later ones)
and/or ``neuvo reindex``, each in a loop (both at once with ``both``), while the load runs.

Rate limits are switched off (NEUVO_RATELIMIT_ENABLED=false): every request comes from
127.0.0.1, and the limiter is measured by its own test.

Usage:
  .venv/bin/python bench/load.py [--duration 30] [--concurrency 8] [--workers 4]
      [--backend sqlite|postgres] [--during none|import|reindex|both] [--record]

``--record`` writes the figures, with the date, commit, load average and the exact
command, into bench/README_stress.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from markupsafe import escape
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fixtures.servers import Instance, gunicorn, postgres_server, prepare_instance
from tests.stress.datafiles import articles_file

KINDS = ("home", "search", "article", "as_you_type")
#: Share of each kind in the mix (a visit: home, a search or two, an article, typing).
WEIGHTS = {"home": 15, "search": 30, "article": 35, "as_you_type": 20}
README = ROOT / "bench" / "README_stress.md"
LOAD_ENV = {"NEUVO_RATELIMIT_ENABLED": "false"}


# ---------- what to ask for

@dataclass(frozen=True)
class Target:
    """One request and the check its answer must pass."""

    kind: str
    path: str
    check: Callable[[int, str], str | None]  # (status, body) -> None if right, else what is wrong


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    language: str


def published_articles(database_url: str) -> list[Article]:
    """The instance's published articles, read straight from its database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT slug, title, language FROM articles WHERE status = 'published' "
                                     "ORDER BY id")).all()
    finally:
        engine.dispose()
    return [Article(*row) for row in rows]


def _ok_status(status: int) -> str | None:
    return None if 200 <= status < 400 else f"status {status}"


def _page_check(*needles: str) -> Callable[[int, str], str | None]:
    def check(status: int, body: str) -> str | None:
        if status != 200:
            return f"status {status}"
        missing = [n for n in needles if n not in body]
        return f"missing {missing[0]!r}" if missing else None
    return check


def _json_check(status: int, body: str) -> str | None:
    if status != 200:
        return f"status {status}"
    try:
        data = json.loads(body)
    except ValueError:
        return "not JSON"
    return None if isinstance(data.get("results"), list) else "no results list"


def _misspell(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return rng.choice([word[:i] + word[i + 1:], word[:i] + word[i] + word[i:],
                       word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]])


def _title_words(title: str) -> list[str]:
    return [w for w in re.findall(r"\w+", title.lower()) if len(w) >= 4 and not w.isdigit()]


def page_mix(articles: list[Article], *, seed: int = 1) -> dict[str, list[Target]]:
    """Requests of each kind made from the articles (deterministic for ``seed``)."""
    rng = random.Random(seed)
    mix: dict[str, list[Target]] = {kind: [] for kind in KINDS}
    for lang in ("fi", "sv", "en"):
        mix["home"].append(Target("home", f"/{lang}/", _page_check('class="search-form"', f'href="/{lang}/c/')))
    for art in articles:
        mix["article"].append(Target("article", f"/{art.language}/a/{art.slug}",
                                     _page_check(f"<h1>{escape(art.title)}</h1>")))
        words = _title_words(art.title)
        if not words:
            continue
        link = f'href="/{art.language}/a/{art.slug}'
        # the whole title finds the article itself on the first page
        mix["search"].append(Target("search", _search_path(art.language, art.title),
                                    _page_check('role="status"', link)))
        chosen = rng.sample(words, min(len(words), rng.randint(1, 2)))
        mix["search"].append(Target("search", _search_path(art.language, " ".join(chosen)),
                                    _page_check('role="status"')))
        long_words = [w for w in words if len(w) >= 6]
        if long_words:
            typo = _misspell(rng.choice(long_words), rng)
            mix["search"].append(Target("search", _search_path(art.language, typo), _page_check('role="status"')))
        for word in words[:2]:
            for cut in (3, 5, len(word)):
                prefix = word[:cut]
                mix["as_you_type"].append(Target(
                    "as_you_type", f"/api/v1/search?as_you_type=1&lang={art.language}&q={quote(prefix)}",
                    _json_check))
    return mix


def _search_path(lang: str, query: str) -> str:
    return f"/{lang}/search?q={quote(query)}"


# ---------- sending it

@dataclass
class Sample:
    kind: str
    seconds: float
    error: str | None


@dataclass
class KindStats:
    kind: str
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass
class LoadReport:
    seconds: float
    samples: list[Sample]
    failures: list[str] = field(default_factory=list)
    #: CPU seconds this process (the clients sending the load) used meanwhile.
    generator_cpu: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s.error is not None)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def stats(self, kind: str | None = None) -> KindStats:
        chosen = [s for s in self.samples if kind is None or s.kind == kind]
        ms = sorted(s.seconds * 1000 for s in chosen)
        cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) >= 2 else ms * 99 or [0.0] * 99
        return KindStats(kind or "all", len(chosen), sum(1 for s in chosen if s.error), cuts[49], cuts[94], cuts[98])


def _one(conn: http.client.HTTPConnection, target: Target) -> tuple[float, str | None]:
    start = time.perf_counter()
    try:
        conn.request("GET", target.path, headers={"Accept-Language": "fi"})
        response = conn.getresponse()
        body = response.read().decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException) as error:
        conn.close()
        return time.perf_counter() - start, f"connection: {error.__class__.__name__}: {error}"
    elapsed = time.perf_counter() - start
    return elapsed, target.check(response.status, body)


def run_load(base_url: str, mix: dict[str, list[Target]], *, duration: float, concurrency: int,
             seed: int = 1, max_failures: int = 20) -> LoadReport:
    """Send the mix from ``concurrency`` threads for ``duration`` seconds; every answer is checked."""
    parts = urlsplit(base_url)
    kinds = [k for k in KINDS if mix.get(k)]
    weights = [WEIGHTS[k] for k in kinds]
    samples: list[Sample] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        mine: list[Sample] = []
        try:
            while time.monotonic() < deadline:
                target = rng.choice(mix[rng.choices(kinds, weights)[0]])
                seconds, error = _one(conn, target)
                mine.append(Sample(target.kind, seconds, error))
                if error is not None:
                    with lock:
                        if len(failures) < max_failures:
                            failures.append(f"{target.path}: {error}")
        finally:
            conn.close()
            with lock:
                samples.extend(mine)

    started, cpu = time.monotonic(), time.process_time()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadReport(time.monotonic() - started, samples, failures, time.process_time() - cpu)


# ---------- writes alongside

@dataclass
class CommandRun:
    command: str
    seconds: float
    returncode: int
    output: str


@contextmanager
def background_writes(instance: Instance, work_dir: Path, *, during: str,
                      import_size: int = 300) -> Iterator[list[CommandRun]]:
    """Run ``neuvo import articles`` and/or ``neuvo reindex``, each in a loop of its own, for the ``with`` block.

    With ``both`` the two run at the same time. Yields the list of finished runs (filled
    as they finish); each loop ends after the command in progress when the block exits.
    """
    commands: list[tuple[str, tuple[str, ...]]] = []
    if during in ("import", "both"):
        data = articles_file(work_dir / "import.jsonl", import_size)
        commands.append((f"neuvo import articles <{import_size} articles>", ("import", "articles", str(data))))
    if during in ("reindex", "both"):
        commands.append(("neuvo reindex", ("reindex",)))
    runs: list[CommandRun] = []
    stop = threading.Event()

    def loop(label: str, args: tuple[str, ...]) -> None:
        while not stop.is_set():
            start = time.monotonic()
            result = instance.neuvo(*args, check=False)
            runs.append(CommandRun(label, time.monotonic() - start, result.returncode,
                                   (result.stdout + result.stderr)[-2000:]))

    threads = [threading.Thread(target=loop, args=command, daemon=True) for command in commands]
    for thread in threads:
        thread.start()
    try:
        yield runs
    finally:
        stop.set()
        for thread in threads:
            thread.join()


# ---------- the run as a whole

@contextmanager
def demo_instance(backend: str, work_dir: Path) -> Iterator[Instance]:
    """A demo instance prepared through the CLI on ``backend`` (sqlite or postgres)."""
    with ExitStack() as stack:
        url = None
        if backend == "postgres":
            server = stack.enter_context(postgres_server())
            url = server.create_database("neuvo_load")
        yield prepare_instance(work_dir / "instance", url)


def measure(args: argparse.Namespace) -> tuple[LoadReport, list[CommandRun], tuple[float, float, float], str]:
    """Run the load as ``args`` say; returns the report, the write commands, the load average and gunicorn's log."""
    with tempfile.TemporaryDirectory(prefix="neuvo-load-") as tmp, demo_instance(args.backend, Path(tmp)) as inst:
        mix = page_mix(published_articles(inst.database_url), seed=args.seed)
        with gunicorn(inst, workers=args.workers, env=LOAD_ENV) as server:
            run_load(server.base_url, mix, duration=min(3.0, args.duration), concurrency=args.concurrency,
                     seed=args.seed + 1)  # warm-up: every worker has rendered every kind once
            with background_writes(inst, Path(tmp), during=args.during, import_size=args.import_size) as runs:
                report = run_load(server.base_url, mix, duration=args.duration, concurrency=args.concurrency,
                                  seed=args.seed)
                load = os.getloadavg()
            return report, list(runs), load, server.log


def markdown(args: argparse.Namespace, report: LoadReport, runs: list[CommandRun],
             load: tuple[float, float, float]) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=False,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           check=False, text=True).stdout.strip()
    command = ("python bench/load.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in ("record",))).strip()
    writes = ""
    if runs:
        by_command: dict[str, list[CommandRun]] = {}
        for run in runs:
            by_command.setdefault(run.command, []).append(run)
        writes = " and ".join(f"`{name}` ×{len(rs)} ({sum(r.returncode != 0 for r in rs)} failed, median "
                              f"{statistics.median(r.seconds for r in rs):.1f} s)"
                              for name, rs in by_command.items())
        writes += ", each in a loop, at the same time" if len(by_command) > 1 else " in a loop"
    lines = [
        (f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} at commit `{commit}`"
         f"{' with uncommitted changes' if dirty else ''}, load average "
         f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) on {os.cpu_count()} cores, with "
         f"`.venv/bin/{command}`."),
        "",
        f"{args.workers} gunicorn workers, {args.backend}, {args.concurrency} concurrent clients, "
        f"{report.seconds:.0f} s" + (f"; while: {writes}" if writes else "; nothing else writing") + ".",
        "",
        "| page | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in (*KINDS, None):
        s = report.stats(kind)
        rps = s.requests / report.seconds if report.seconds else 0
        name = f"**{s.kind}**" if kind is None else s.kind
        lines.append(f"| {name} | {s.requests} | {rps:.1f} | {s.p50_ms:.0f} | {s.p95_ms:.0f} | {s.p99_ms:.0f} "
                     f"| {s.errors} |")
    lines += ["", f"The load generator (this script's client threads) used {report.generator_cpu:.1f} s of CPU in "
              f"{report.seconds:.0f} s ({100 * report.generator_cpu / report.seconds:.0f} % of one core, of the "
              f"{os.cpu_count()} the server shares with it)."]
    if report.failures:
        lines += ["", "First errors:", *(f"- `{f}`" for f in report.failures[:5])]
    return "\n".join(lines)


def record(label: str, block: str) -> None:
    """Replace the block marked ``label`` in bench/README_stress.md (appended when new), and the summary."""
    readme = README.read_text(encoding="utf-8") if README.exists() else "# Load and fault runs\n"
    readme = _replace_block(readme, label, block)
    readme = _replace_block(readme, "summary", summary(readme))
    README.write_text(readme, encoding="utf-8")


def _replace_block(readme: str, label: str, block: str) -> str:
    start, end = f"<!-- load:{label} -->", f"<!-- /load:{label} -->"
    new = f"{start}\n{block}\n{end}"
    if start in readme and end in readme:
        before, rest = readme.split(start, 1)
        return before + new + rest.split(end, 1)[1]
    return readme.rstrip("\n") + f"\n\n{new}\n"


#: The whole mix's row of a recorded table: req/s, p50, p99, errors.
ALL_ROW = re.compile(r"^\| \*\*all\*\* \| \d+ \| ([\d.]+) \| (\d+) \| \d+ \| (\d+) \| (\d+) \|$", re.MULTILINE)


def summary(readme: str) -> str:
    """One line per recorded run: the whole mix's requests per second, p99 and errors."""
    lines = ["| database | writes at the same time | req/s | p50 ms | p99 ms | errors | load average (1 min) |",
             "|---|---|---|---|---|---|---|"]
    for backend in ("postgres", "sqlite"):
        for during in ("none", "import", "reindex", "both"):
            start = f"<!-- load:{backend}-{during} -->"
            if start not in readme:
                continue
            block = readme.split(start, 1)[1].split(f"<!-- /load:{backend}-{during} -->", 1)[0]
            total = ALL_ROW.search(block)
            load = re.search(r"load average ([\d.]+)", block)
            if total is None or load is None:
                continue
            writes = {"none": "none", "import": "`neuvo import articles`", "reindex": "`neuvo reindex`",
                      "both": "`neuvo import articles` and `neuvo reindex`"}[during]
            lines.append(f"| {'PostgreSQL' if backend == 'postgres' else 'SQLite'} | {writes} | {total[1]} | "
                         f"{total[2]} | {total[3]} | {total[4]} | {load[1]} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--during", choices=("none", "import", "reindex", "both"), default="none")
    parser.add_argument("--import-size", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record", action="store_true", help="write the figures into bench/README_stress.md")
    args = parser.parse_args()
    report, runs, load, log = measure(args)
    block = markdown(args, report, runs, load)
    print(block)
    if args.record:
        record(f"{args.backend}-{args.during}", block)
    if report.errors:
        warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
        print("\ngunicorn's warnings and errors:", *warnings[-10:], sep="\n", file=sys.stderr)
    failed_writes = [r for r in runs if r.returncode != 0]
    for run in failed_writes[:3]:
        print(f"\n{run.command} exited {run.returncode}:\n{run.output}", file=sys.stderr)
    return 1 if report.errors or failed_writes else 0


if __name__ == "__main__":
    sys.exit(main())
