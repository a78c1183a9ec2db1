#!/usr/bin/env python3
"""Embed the evaluation scenarios' texts once and keep the vectors in a cache file (bench only).

The product stores vectors in its database; the in-process bench (``suggest_inprocess.py
--semantic``) reads them from this cache instead, keyed like the product (:func:`suggest.semantic.text_key`).

Usage: python bench/semantic_cache.py [scenario ...] [--cache /tmp/neuvo-e5-cache.npz]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.environ.get("NEUVO_EVAL_DIR", os.path.join(HERE, "..", "..", "shared", "eval")))

import suggest_eval as se  # noqa: E402

from suggest.semantic import article_input, embed, load_encoder, text_key  # noqa: E402

DEFAULT = os.path.join(os.environ.get("TMPDIR", "/tmp"), "neuvo-e5-cache.npz")


def read(path: str) -> dict[str, np.ndarray]:
    """Key -> float16 vector, from a cache file (empty when missing)."""
    if not os.path.exists(path):
        return {}
    with np.load(path, allow_pickle=False) as npz:
        return dict(zip(npz["keys"].tolist(), npz["vectors"]))


def write(path: str, cache: dict[str, np.ndarray]) -> None:
    keys = sorted(cache)
    np.savez(path, keys=np.asarray(keys), vectors=np.vstack([cache[k] for k in keys]).astype(np.float16))


def scenario_texts(name: str, seed: int = 7) -> list[str]:
    articles, inquiries, *_ = se.SCENARIOS[name](seed)
    return ([article_input(a["title"], a["body"], a.get("tags", ())) for a in articles]
            + [" ".join(x for x in (q.get("subject"), q["body"]) if x) for q in inquiries])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("scenarios", nargs="*", default=sorted(se.SCENARIOS))
    p.add_argument("--cache", default=DEFAULT)
    args = p.parse_args()
    encoder = load_encoder("on")
    cache = read(args.cache)
    for name in args.scenarios:
        texts = sorted({t for t in scenario_texts(name) if text_key(t, encoder.name) not in cache})
        t0 = time.perf_counter()
        vectors = embed(encoder, texts)
        for t, v in zip(texts, vectors):
            cache[text_key(t, encoder.name)] = v.astype(np.float16)
        write(args.cache, cache)
        print(f"{name}: {len(texts)} new texts in {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
