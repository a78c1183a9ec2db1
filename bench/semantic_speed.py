#!/usr/bin/env python3
"""What the semantic signal adds per attach, and what embedding costs (one thread).

Usage: OMP_NUM_THREADS=1 python bench/semantic_speed.py [--articles 10000] [--texts 200]
Prints: the median / p95 time of the semantic part of one attach (a 384-d row against the
article centroids, mixed in, plus the agreement argmax), and the encoder's time per short text.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from suggest.selftrain import mix_semantic  # noqa: E402
from suggest.semantic import embed, load_encoder  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--articles", type=int, default=10000)
    p.add_argument("--texts", type=int, default=200)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    C = rng.standard_normal((args.articles, 384)).astype(np.float32)
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    CT = np.ascontiguousarray(0.5 * C.T)
    times = []
    for _ in range(500):
        z = rng.standard_normal((1, 384)).astype(np.float32)
        block = rng.random((1, args.articles)).astype(np.float32)
        t = time.perf_counter()
        mix_semantic(block, z, CT, 0.5)
        (z @ C.T).argmax(axis=1)
        times.append(time.perf_counter() - t)
    ms = np.asarray(times) * 1000
    print(f"semantic part of one attach vs {args.articles} articles: median {np.median(ms):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms")
    encoder = load_encoder("on")
    texts = [f"Hei, tilasin {i} päivää sitten eikä paketti ole vielä tullut, missä se on?" for i in range(args.texts)]
    t = time.perf_counter()
    embed(encoder, texts)
    per = (time.perf_counter() - t) / len(texts) * 1000
    print(f"encoder: {per:.1f} ms per short text (batches of 32, one thread); 10,000 texts ≈ {per * 10:.0f} s; "
          f"500 a day ≈ {per * 500 / 1000:.0f} s of one core a day")


if __name__ == "__main__":
    main()
