#!/usr/bin/env python3
"""Speed and memory of the suggester on synthetic shop data (run by hand, not in tests).

- attach: median / p99 ms per single ``rank()`` call against N articles, with a
  history of stored inquiries (``--articles 10000 --history 20000``).
- gaps: wall time and peak RSS growth of ``ArticleMatcher.fit`` + ``GapMiner.mine``
  (what ``neuvo suggest gaps`` does) for 10k / 50k / 100k inquiries in the window,
  each size in a fresh subprocess so peak RSS is its own.

Texts are generated from a small vocabulary of shop words (no data set needed), so
the sparsity is realistic but the quality numbers are meaningless.

Usage: python bench/suggest_speed.py attach|gaps|all [--articles N] [--sizes 10000,50000,100000] [--semantic]
                                    [--translations]

``--translations`` groups the articles in threes (an original and two translations), the worst case
for the translation-group paths (pooled semantic centroids, runner-up outside the group).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from suggest import ArticleMatcher, ArticleText, GapMiner, InquiryText  # noqa: E402

AS_OF = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
NOUNS = ("order parcel package delivery invoice refund return exchange size colour shoe jacket shirt dress "
         "bag gift card voucher discount code account password address payment receipt warranty repair "
         "battery charger cable phone laptop screen lamp sofa table chair bed mattress pillow towel").split()
VERBS = "track cancel change return refund pay ship deliver reset update send find open register".split()
FILLER = "how can i my the is where when why do you please help with a an not yet still".split()


def text(rng: random.Random, n: int) -> str:
    """A random shop-like sentence of about ``n`` words."""
    words = [rng.choice(FILLER) if rng.random() < 0.4 else rng.choice(NOUNS if rng.random() < 0.6 else VERBS)
             for _ in range(n)]
    words += [f"{rng.choice(NOUNS)}{rng.randint(0, 500)}"]  # a rare token (product name) per text
    return " ".join(words)


def make_articles(n: int, rng: random.Random, translations: bool = False) -> list[ArticleText]:
    """``n`` articles with short titles and 80-word bodies (in translation groups of three when asked)."""
    return [ArticleText(slug=f"a{i}", title=text(rng, 4), body=text(rng, 80), language="en",
                        group=f"g{i // 3}" if translations else "") for i in range(n)]


def make_inquiries(n: int, rng: random.Random) -> list[InquiryText]:
    """``n`` inquiries of 6-16 words spread over the last 14 days."""
    return [InquiryText(id=f"q{i}", text=text(rng, rng.randint(6, 16)),
                        created_at=AS_OF - timedelta(days=rng.uniform(0, 13.9)), language="en",
                        channel="email") for i in range(n)]


def unit_rows(n: int, seed: int) -> np.ndarray:
    """Random unit rows of the encoder's width: the semantic part costs the same whatever the values."""
    rows = np.random.default_rng(seed).standard_normal((n, 384)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def bench_attach(n_articles: int, n_history: int, semantic: bool = False, translations: bool = False) -> dict:
    """Median / p99 ms of single-text ``rank`` calls (with a stored vector per text when ``semantic``)."""
    rng = random.Random(1)
    arts, hist = make_articles(n_articles, rng, translations), make_inquiries(n_history, rng)
    vectors = {"article_vectors": unit_rows(n_articles, 1), "history_vectors": unit_rows(n_history, 2)} \
        if semantic else {}
    t = time.perf_counter()
    matcher = ArticleMatcher().fit(arts, hist, **vectors, **({"encoder_name": "random"} if semantic else {}))
    fit_s = time.perf_counter() - t
    queries = [text(rng, rng.randint(4, 10)) for _ in range(300)]
    query_vectors = unit_rows(len(queries), 3) if semantic else [None] * len(queries)
    for q, v in zip(queries[:20], query_vectors[:20]):
        matcher.rank(q, k=5, vector=v)
    times = []
    for q, v in zip(queries, query_vectors):
        t = time.perf_counter()
        matcher.rank(q, k=5, vector=v)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    with_lang = []
    for q in queries:
        t = time.perf_counter()
        matcher.rank(q, k=5, language="en")
        with_lang.append((time.perf_counter() - t) * 1000)
    with_lang.sort()
    return {"bench": "attach", "semantic": matcher.uses_semantic, "translations": translations,
            "articles": n_articles, "history": n_history,
            "fit_s": round(fit_s, 1),
            "median_ms": round(times[len(times) // 2], 2), "p99_ms": round(times[int(len(times) * 0.99)], 2),
            "median_ms_language_given": round(with_lang[len(with_lang) // 2], 2)}


def bench_gaps_one(n: int, n_articles: int, semantic: bool = False, translations: bool = False) -> dict:
    """Fit + mine over ``n`` inquiries in the window (with stored vectors when ``semantic``); own process."""
    rng = random.Random(2)
    arts, inqs = make_articles(n_articles, rng, translations), make_inquiries(n, rng)
    history_vectors = unit_rows(n, 2) if semantic else None
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    matcher = ArticleMatcher().fit(arts, inqs, **({"article_vectors": unit_rows(n_articles, 1),
                                                   "history_vectors": history_vectors, "encoder_name": "random"}
                                                  if semantic else {}))
    t_fit = time.perf_counter() - t
    report = GapMiner().mine(inqs, arts, as_of=AS_OF, matcher=matcher, vectors=history_vectors)
    total = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"bench": "gaps", "semantic": matcher.uses_semantic, "translations": translations, "inquiries": n, "articles": n_articles, "fit_s": round(t_fit, 1),
            "mine_s": round(total - t_fit, 1), "total_s": round(total, 1),
            "peak_rss_growth_mb": round((peak - base) / 1024), "topics": len(report.topics)}


def main() -> None:
    """Parse arguments and print one JSON line per measurement."""
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["attach", "gaps", "all", "_gaps_one"])
    p.add_argument("--articles", type=int, default=10000)
    p.add_argument("--history", type=int, default=20000)
    p.add_argument("--gap-articles", type=int, default=1000)
    p.add_argument("--sizes", default="10000,50000,100000")
    p.add_argument("--semantic", action="store_true", help="attach with stored encoder vectors (random rows)")
    p.add_argument("--translations", action="store_true", help="articles in translation groups of three")
    args = p.parse_args()
    if args.what == "_gaps_one":
        print(json.dumps(bench_gaps_one(int(args.sizes), args.gap_articles, args.semantic, args.translations)))
        return
    if args.what in ("attach", "all"):
        print(json.dumps(bench_attach(args.articles, args.history, args.semantic, args.translations)), flush=True)
    if args.what in ("gaps", "all"):
        for n in args.sizes.split(","):
            out = subprocess.run([sys.executable, __file__, "_gaps_one", "--sizes", n,
                                  "--gap-articles", str(args.gap_articles), *(["--semantic"] if args.semantic else []),
                                  *(["--translations"] if args.translations else [])],
                                 capture_output=True, text=True)
            print(out.stdout.strip() or out.stderr.strip()[-500:], flush=True)


if __name__ == "__main__":
    main()
