#!/usr/bin/env python3
"""The product's real CLI at scale: import, `suggest gaps`, `suggest attach`.

For each N in --sizes, in a fresh temporary instance (NEUVO_INSTANCE_PATH=<tmp>,
NEUVO_DATABASE_URL=sqlite:///<tmp>/n.db, NEUVO_SECRET_KEY=bench):
  neuvo init
  neuvo import articles   <1,000 articles>
  neuvo import inquiries  <N inquiries, all within the 14 days before --as-of>
  neuvo suggest gaps --as-of AS_OF --days 14 --top 10 --json
  neuvo suggest attach --file <1,000 inquiries> --k 3 --json
and reports wall time and peak RSS of each command (`/usr/bin/time -v` when present,
else resource.getrusage(RUSAGE_CHILDREN).ru_maxrss around each subprocess).

Data (built at run time from /work/shared/data; nothing is copied into the product):
- articles: one per bitext intent (body = one agent response of the 4.5k file) and one per
  clinc150 intent (body = three seed utterances, as in /work/shared/eval/suggest_eval.py),
  then filled to 1,000 with articles made of distinct 4.5k instruction/response pairs
  (title = the customer's question, body = the agent's response);
- inquiries: bitext utterances_20k + clinc150 texts (~45k), cycled with small
  deterministic variations (greeting, closing, case, punctuation, a dropped or repeated
  word) to reach N; timestamps uniform over the 14 days before --as-of.

Usage: python bench/suggest_cli_scale.py [--sizes 10000 100000] [--neuvo PATH] [--postgres]
                                         [--as-of 2026-06-15T12:00:00+00:00] [--seed 7]
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("NEUVO_EVAL_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
N_ARTICLES = 1000
N_ATTACH = 1000
TIME_BIN = "/usr/bin/time"


def slugify(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def title_of(label: str) -> str:
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", label).replace("_", " ").split()
    return " ".join(words).capitalize()


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def build_articles(rng):
    bitext = read_rows(f"{DATA}/bitext/utterances_20k/normalized.csv")
    clinc = [r for r in read_rows(f"{DATA}/clinc150/normalized.csv") if r["label"] != "oos"]
    llm = read_rows(f"{DATA}/bitext/llm_4.5k_with_responses/"
                    "Bitext_Sample_Customer_Support_Training_Dataset_2023-09-19.csv")
    resp = {}
    for r in llm:
        resp.setdefault(r["intent"], r["response"])
    articles, seen = [], set()

    def add(slug, title, body):
        slug = slug[:80].strip("-") or "a"
        base, i = slug, 1
        while slug in seen:
            i += 1
            slug = f"{base}-{i}"
        seen.add(slug)
        articles.append({"slug": slug, "title": title[:200], "body": body, "language": "en",
                         "category": "General", "status": "published"})

    for label in sorted({r["label"] for r in bitext}):
        if resp.get(label):
            add(slugify(label), title_of(label), resp[label])
    by = collections.defaultdict(list)
    for r in clinc:
        by[r["label"]].append(r["text"])
    for label in sorted(by):
        seeds = rng.sample(by[label], 3)
        add("c-" + slugify(label), title_of(label),
            "Questions this answers:\n\n" + "\n".join(f"- {s}" for s in seeds))
    used = {resp[k] for k in resp}
    extra = [r for r in llm if r["response"] not in used and r["instruction"].strip()]
    rng.shuffle(extra)
    for r in extra:
        if len(articles) >= N_ARTICLES:
            break
        q = r["instruction"].strip()
        add(f"{slugify(r['intent'])}-{len(articles)}", q[0].upper() + q[1:], r["response"])
    return articles


OPEN = ["", "hi, ", "hello ", "hey ", "good morning, ", "hi there! ", "excuse me, ", "please, "]
CLOSE = ["", " thanks", " thank you!", " please", " asap", " ??", " :)", " - thanks in advance"]


def vary(text: str, cycle: int, rng: random.Random) -> str:
    if cycle == 0:
        return text
    words = text.split()
    r = rng.random()
    if len(words) > 4 and r < 0.25:
        del words[rng.randrange(len(words))]
    elif len(words) > 2 and r < 0.45:
        i = rng.randrange(len(words))
        words.insert(i, words[i])
    t = " ".join(words)
    if rng.random() < 0.3:
        t = t.lower()
    elif rng.random() < 0.2:
        t = t[:1].upper() + t[1:]
    return (OPEN[cycle % len(OPEN)] if rng.random() < 0.7 else rng.choice(OPEN)) + t + rng.choice(CLOSE)


def build_inquiries(n, as_of, rng):
    pool = [r["text"] for r in read_rows(f"{DATA}/bitext/utterances_20k/normalized.csv")]
    pool += [r["text"] for r in read_rows(f"{DATA}/clinc150/normalized.csv")]
    rng.shuffle(pool)
    out = []
    for i in range(n):
        cycle, j = divmod(i, len(pool))
        at = as_of - timedelta(days=rng.uniform(0.001, 13.99))
        out.append({"id": f"q{i}", "created_at": at.isoformat(), "channel": rng.choice(["email", "chat", "form"]),
                    "subject": "", "body": vary(pool[j], cycle, rng), "language": "en"})
    return out


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def _parse_elapsed(s: str) -> float:
    parts = [float(p) for p in s.strip().split(":")]
    sec = 0.0
    for p in parts:
        sec = sec * 60 + p
    return sec


def run(cmd, env, out_path, timeout):
    """Run one command; return (wall seconds, peak RSS in MiB)."""
    use_time = os.path.exists(TIME_BIN)
    full = [TIME_BIN, "-v", *cmd] if use_time else cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    with open(out_path, "w", encoding="utf-8") as out:
        p = subprocess.run(full, env=env, stdout=out, stderr=subprocess.PIPE, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[1:])} failed ({p.returncode}): {p.stderr.strip()[-800:]}")
    if use_time:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        rss_kb = int(m.group(1)) if m else 0
        m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", p.stderr)
        if m:
            wall = _parse_elapsed(m.group(1))
    else:
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: exact only when it grew
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rss_kb = after if after > before else before
    return wall, rss_kb / 1024


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def bench_size(neuvo, n, as_of, seed, timeout, keep, database_url=None):
    rng = random.Random(seed)
    articles = build_articles(rng)
    inquiries = build_inquiries(n, as_of, rng)
    attach_rows = random.Random(seed + 1).sample(inquiries, min(N_ATTACH, len(inquiries)))
    tmp = tempfile.mkdtemp(prefix=f"neuvo-scale-{n}-")
    try:
        env = dict(os.environ, NEUVO_INSTANCE_PATH=tmp, NEUVO_SECRET_KEY="bench",
                   NEUVO_DATABASE_URL=database_url(n) if database_url else f"sqlite:///{tmp}/n.db")
        a, q, f = f"{tmp}/articles.jsonl", f"{tmp}/inquiries.jsonl", f"{tmp}/attach.jsonl"
        write_jsonl(a, articles)
        write_jsonl(q, inquiries)
        write_jsonl(f, attach_rows)
        res = {"n": n, "articles": len(articles)}
        log = lambda m: print(f"[N={n}] {m}", file=sys.stderr, flush=True)  # noqa: E731
        res["init"] = run([neuvo, "init"], env, f"{tmp}/init.out", timeout)
        res["import_articles"] = run([neuvo, "import", "articles", a], env, f"{tmp}/ia.out", timeout)
        log(f"articles imported in {res['import_articles'][0]:.1f} s")
        res["import_inquiries"] = run([neuvo, "import", "inquiries", q], env, f"{tmp}/iq.out", timeout)
        log(f"inquiries imported in {res['import_inquiries'][0]:.1f} s, {res['import_inquiries'][1]:.0f} MiB")
        res["gaps"] = run([neuvo, "suggest", "gaps", "--as-of", as_of.isoformat(), "--days", "14",
                           "--top", "10", "--json"], env, f"{tmp}/gaps.json", timeout)
        with open(f"{tmp}/gaps.json", encoding="utf-8") as g:
            topics = json.load(g).get("topics", [])
        res["topics"] = len(topics)
        res["window"] = n
        log(f"gaps in {res['gaps'][0]:.1f} s, {res['gaps'][1]:.0f} MiB, {len(topics)} topics")
        res["attach"] = run([neuvo, "suggest", "attach", "--file", f, "--k", "3", "--json"],
                            env, f"{tmp}/attach.out", timeout)
        with open(f"{tmp}/attach.out", encoding="utf-8") as g:
            lines = [json.loads(x) for x in g if x.strip()]
        res["attach_n"] = len(lines)
        res["attach_confident"] = sum(bool(x.get("confident")) for x in lines)
        log(f"attach {len(lines)} in {res['attach'][0]:.1f} s, {res['attach'][1]:.0f} MiB")
        return res
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    p.add_argument("--neuvo", default=os.environ.get("NEUVO_BIN") or shutil.which("neuvo")
                   or os.path.join(os.path.dirname(sys.executable), "neuvo"))
    p.add_argument("--as-of", default="2026-06-15T12:00:00+00:00")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=int, default=3600, help="per command, seconds")
    p.add_argument("--keep", action="store_true", help="keep the temporary instances")
    p.add_argument("--postgres", action="store_true",
                   help="a throwaway PostgreSQL cluster (tests/fixtures/servers.py), one database per size, instead of SQLite")
    args = p.parse_args()
    as_of = datetime.fromisoformat(args.as_of)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=timezone.utc)
    load_before = loadavg()
    if args.postgres:
        sys.path.insert(0, os.path.join(HERE, ".."))
        from tests.fixtures.servers import postgres_server

        with postgres_server() as pg:
            results = [bench_size(args.neuvo, n, as_of, args.seed, args.timeout, args.keep,
                                  lambda n: pg.create_database(f"scale_{n}")) for n in args.sizes]
    else:
        results = [bench_size(args.neuvo, n, as_of, args.seed, args.timeout, args.keep) for n in args.sizes]
    load_after = loadavg()
    how = "/usr/bin/time -v" if os.path.exists(TIME_BIN) else "getrusage(RUSAGE_CHILDREN)"
    print(f"{'PostgreSQL' if args.postgres else 'SQLite'}; 1,000 articles; inquiries all in the 14-day window; attach = {N_ATTACH:,} inquiries, k=3; "
          f"time and peak RSS per command by {how}; load average before {load_before}, after {load_after}\n")
    print("| N inquiries | import inquiries: time | import: peak RSS | gaps: time | gaps: peak RSS "
          "| gaps topics | attach 1,000: time | attach: peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        (ti, mi), (tg, mg), (ta, ma) = r["import_inquiries"], r["gaps"], r["attach"]
        print(f"| {r['n']:,} | {ti:.1f} s | {mi:,.0f} MiB | {tg:.1f} s | {mg:,.0f} MiB | {r['topics']} "
              f"| {ta:.1f} s | {ma:,.0f} MiB |")
    print("\n(init + import articles: " + "; ".join(
        f"N={r['n']:,}: {r['init'][0]:.1f} s + {r['import_articles'][0]:.1f} s" for r in results) + ")")


if __name__ == "__main__":
    main()
