"""Search latency and relevance: SearchIndex vs a plain-OR Whoosh query vs SQLite FTS5.

SearchIndex is measured twice: as shipped (NumPy array scoring) and with
``array_scoring = False`` (Whoosh's own matchers, the code before the change).

Run by hand (never part of the test suite):

    .venv/bin/python bench/search_bench.py [--sizes 1000 10000] [--queries 1000]

English corpora are built from ../shared/data (Bitext agent responses and CLINC150
utterances), queries are held-out real customer questions of 3-8 words; an answer
counts as relevant when its article was written from the same intent. A Finnish
check uses Turku paraphrase pairs (label 4): the article is txt2, the query txt1.
Latencies are per query, in-process, one reused searcher, after a separate warm-up.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search import IndexedArticle, SearchIndex  # noqa: E402
from search.query import plan  # noqa: E402
from search.text import WORD_RE  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PLACEHOLDER = re.compile(r"\{\{([^}]*)\}\}")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _nwords(text: str) -> int:
    return len(text.split())


def english_corpus(size: int, n_queries: int, rng: random.Random):
    """(articles, labels by id, queries [(text, label)], warm-up queries)."""
    bitext = _rows(DATA / "bitext/llm_4.5k_with_responses/Bitext_Sample_Customer_Support_Training_Dataset_2023-09-19.csv")
    clinc = [r for r in _rows(DATA / "clinc150/normalized.csv") if not r["label"].startswith("oos")]
    by_intent: dict[str, list[str]] = defaultdict(list)
    for r in clinc:
        if r["split"] == "train":
            by_intent[r["label"]].append(r["text"])
    rng.shuffle(bitext)
    n_bitext = min(len(bitext), size * 45 // 100)
    articles, labels = [], {}
    for i, r in enumerate(bitext[:n_bitext]):
        body = PLACEHOLDER.sub(lambda m: m.group(1).lower(), r["response"])
        articles.append(IndexedArticle(i + 1, f"b{i}", "en", r["instruction"], body, r["category"].lower()))
        labels[i + 1] = "bitext:" + r["intent"]
    intents = sorted(by_intent)
    for j in range(size - n_bitext):
        doc_id = n_bitext + j + 1
        intent = intents[j % len(intents)]
        lines = rng.sample(by_intent[intent], 6)
        title = lines[0][:1].upper() + lines[0][1:]
        body = "Customers ask: " + " ".join(f"{t}?" for t in lines[1:]) + f" Topic: {intent.replace('_', ' ')}."
        articles.append(IndexedArticle(doc_id, f"c{j}", "en", title, body, "clinc"))
        labels[doc_id] = "clinc:" + intent
    seen = {r["instruction"].lower() for r in bitext}
    present = set(labels.values())
    pool = [(r["text"], "clinc:" + r["label"]) for r in clinc if r["split"] == "test"]
    pool += [
        (r["text"], "bitext:" + r["label"])
        for r in _rows(DATA / "bitext/utterances_20k/normalized.csv")
        if r["text"].lower() not in seen
    ]
    pool = [(t, lab) for t, lab in pool if 3 <= _nwords(t) <= 8 and lab in present]
    rng.shuffle(pool)
    return articles, labels, pool[:n_queries], pool[n_queries : n_queries + 200]


def finnish_corpus(n_queries: int, rng: random.Random):
    """Paraphrase retrieval: every txt2 is an article; txt1 of label-4 pairs are queries."""
    pairs = json.loads((DATA / "turku_paraphrase_fi/fi_opus-pb-dev.json").read_text("utf-8"))
    articles, labels, queries = [], {}, []
    for i, p in enumerate(pairs):
        articles.append(IndexedArticle(i + 1, f"f{i}", "fi", p["txt2"][:80], p["txt2"], "fi"))
        labels[i + 1] = str(i + 1)
        if p["label"].startswith("4") and 3 <= _nwords(p["txt1"]) <= 12:
            queries.append((p["txt1"], str(i + 1)))
    rng.shuffle(queries)
    return articles, labels, queries[:n_queries], queries[n_queries : n_queries + 100]


def fts5_index(articles: list[IndexedArticle], tokenize: str) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='{tokenize}')")
    db.executemany("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)",
                   [(a.id, a.title, a.body) for a in articles])
    db.commit()
    return db


def fts5_search(db: sqlite3.Connection) -> Callable[[str], list[int]]:
    def run(text: str) -> list[int]:
        terms = [f'"{m.group()}"' for m in WORD_RE.finditer(text.replace('"', " "))]
        if not terms:
            return []
        sql = "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 3.0, 1.0) LIMIT 10"
        return [r[0] for r in db.execute(sql, (" OR ".join(terms),))]
    return run


def measure(run: Callable[[str], list[int]], queries, warmup, labels) -> dict[str, float]:
    for text, _ in warmup:
        run(text)
    times, hits, rr = [], 0, 0.0
    for text, label in queries:
        t0 = time.perf_counter()
        ids = run(text)
        times.append((time.perf_counter() - t0) * 1000)
        for rank, doc_id in enumerate(ids, 1):
            if labels[doc_id] == label:
                hits += 1
                rr += 1 / rank
                break
    times.sort()
    return {
        "median": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "hit10": hits / len(queries),
        "mrr": rr / len(queries),
    }


def run_corpus(name: str, articles, labels, queries, warmup, tokenize: str, language: str | None):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index = SearchIndex(tmp)
        t0 = time.perf_counter()
        index.rebuild(articles)
        build = time.perf_counter() - t0

        def ours(text: str) -> list[int]:
            return [h.id for h in index.search(text, language=language).results]

        def ours_whoosh(text: str) -> list[int]:
            index.array_scoring = False  # the same search scored by Whoosh's matchers
            try:
                return [h.id for h in index.search(text, language=language).results]
            finally:
                index.array_scoring = True

        def plain_or(text: str) -> list[int]:
            qp = plan(text, language)
            q = qp.any_query or qp.all_query
            if q is None:
                return []
            with index._reading() as searcher:  # the same reused searcher
                return [int(h["id"]) for h in searcher.search(q, limit=10)]

        rows.append(("SearchIndex.search (AND, OR fallback, snippets)", measure(ours, queries, warmup, labels)))
        rows.append(("  same, Whoosh matchers (array_scoring=False)", measure(ours_whoosh, queries, warmup, labels)))
        rows.append(("Whoosh plain OR, same analysis, no snippets", measure(plain_or, queries, warmup, labels)))
        index.close()
    db = fts5_index(articles, tokenize)
    rows.append((f"SQLite FTS5 bm25 OR ({tokenize})", measure(fts5_search(db), queries, warmup, labels)))
    db.close()
    print(f"\n### {name}: {len(articles)} articles, {len(queries)} queries (index build {build:.1f} s)\n")
    print("| engine | median ms | p99 ms | right article in top 10 | MRR@10 |")
    print("|---|---|---|---|---|")
    for label, m in rows:
        print(f"| {label} | {m['median']:.2f} | {m['p99']:.2f} | {m['hit10']:.3f} | {m['mrr']:.3f} |")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-finnish", action="store_true", help="skip the Finnish paraphrase check")
    args = parser.parse_args(argv)
    for size in args.sizes:
        rng = random.Random(args.seed)
        articles, labels, queries, warmup = english_corpus(size, args.queries, rng)
        run_corpus(f"English, {size}", articles, labels, queries, warmup, "porter unicode61", None)
    if not args.no_finnish:
        rng = random.Random(args.seed)
        articles, labels, queries, warmup = finnish_corpus(args.queries, rng)
        run_corpus("Finnish paraphrases", articles, labels, queries, warmup, "unicode61", None)


if __name__ == "__main__":
    main()
