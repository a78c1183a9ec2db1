#!/usr/bin/env python3
"""Contact-form suggestions while typing: ``POST /api/v1/suggest`` in process, on the demo shop.

The contact form asks for suggestions 400 ms after the customer stops typing, for the text
so far (at least 12 characters). That text has no stored vector, so it is ranked by TF-IDF
alone whatever ``NEUVO_SUGGEST_SEMANTIC`` says. This measures the whole request (JSON in,
ranking, titles, JSON out) with the Flask test client, every prefix of a few questions
written as customers write them, after one warm-up pass.

Usage: python bench/suggest_typing.py --instance PATH [--rounds 5]
  (PATH: an instance folder with the demo shop, e.g. after `neuvo init` and `neuvo demo`)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

QUESTIONS = [
    ("fi", "Hei, tilasin villamaton viime viikolla mutta paketti ei ole vieläkään tullut, missä se on?"),
    ("fi", "Voinko vielä lisätä tilaukseen toisen tyynynpäällisen vai onko se jo pakattu?"),
    ("sv", "Hej, jag vill returnera en lampa som var trasig när den kom, hur gör jag?"),
    ("en", "Hello, can I change the delivery address of my order before it ships?"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from kb import create_app

    app = create_app({"TESTING": False, "ENV": "testing", "SECRET_KEY": "bench-secret",
                      "INSTANCE_PATH": str(args.instance),
                      "DATABASE_URL": f"sqlite:///{args.instance / 'neuvo.db'}",
                      "RATELIMIT_ENABLED": False, "SERVER_NAME": None})
    client = app.test_client()
    prefixes = [(lang, text[:n]) for lang, text in QUESTIONS for n in range(12, len(text) + 1, 3)]
    times = []
    for round_ in range(args.rounds + 1):
        for lang, text in prefixes:
            started = time.perf_counter()
            response = client.post("/api/v1/suggest", json={"text": text, "language": lang, "k": 3})
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)[:200]}")
            if round_:
                times.append(elapsed)
    times.sort()
    print(f"POST /api/v1/suggest, {len(times)} typed prefixes: median {statistics.median(times):.2f} ms, "
          f"p95 {times[int(len(times) * 0.95)]:.2f} ms, max {times[-1]:.2f} ms")


if __name__ == "__main__":
    main()
