#!/usr/bin/env python3
"""How fast :mod:`mailsplit` splits large and hostile messages (a benchmark, not a test).

    .venv/bin/python bench/mail_split.py

Cases (built here, no data needed): a 100 KB reply (new text over a long quoted thread with
Outlook blocks and attributions in several languages), a 100 KB HTML reply, and 767 KB
pathological inputs that make naive patterns backtrack: one line of "On 1.2.2020 … wrote"
fragments without a line break, 767 KB of one character repeated, ``>`` nesting 5,000 deep,
header-like lines by the thousand, and HTML blockquotes nested 5,000 deep. Prints the best of
twenty runs per case (five for the large ones: the machine is shared) in milliseconds.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailsplit import split_message  # noqa: E402

KB = 1024


def reply_100k() -> str:
    parts = ["Hei,\n\nTilaukseni ei ole vieläkään tullut. Voitteko tarkistaa missä se on?\n\n"
             "Ystävällisin terveisin\nMatti Meikäläinen\n040 123 4567\n\n"]
    size = sum(map(len, parts))
    n = 0
    while size < 100 * KB:
        n += 1
        block = (f"pe {n % 28 + 1}. lokakuuta 2017 klo 17.50 Asiakaspalvelu <\nasiakaspalvelu@kauppa.example> kirjoitti:\n"
                 + "".join(f"> Kiitos viestistäsi {i}. Paketti lähti varastolta ja on matkalla.\n" for i in range(20))
                 + "-----Alkuperäinen viesti-----\nLähettäjä: Matti <matti@example.fi>\nLähetetty: 20.10.2017\n"
                 "Vastaanottaja: asiakaspalvelu@kauppa.example\nAihe: Tilaus\n\n")
        parts.append(block)
        size += len(block)
    return "".join(parts)[:100 * KB]


def html_100k() -> str:
    body = "<div>Hej!<br>Var är mitt paket?</div><div>Med vänliga hälsningar<br>Eva</div>"
    quote = "".join(f"<p>Rad {i} i den tidigare tråden, med lite text som upprepas.</p>" for i in range(1500))
    return f"<html><body>{body}<div class='gmail_quote'>Den 1 okt 2017 skrev Butik &lt;b@x.se&gt;:<blockquote>{quote}</blockquote></div></body></html>"[:100 * KB]


def pathological() -> dict[str, tuple[str, str | None]]:
    size = 767 * KB
    wrote = "On 1.2.2020 at 10:00, Anna <anna@example.com> wrote " * (size // 52)
    return {
        "one 767 KB line of attribution fragments": (wrote[:size] + ":", None),
        "767 KB of one character": ("a" * size, None),
        "767 KB of spaces and colons": ((" :" * (size // 2)), None),
        "> nested 5,000 deep, many lines": ("\n".join(">" * 5000 + " x" for _ in range(size // 5003)), None),
        "header-like lines by the thousand": (("From: a@b.c\nSent: 1.2.2020\n" * (size // 28)), None),
        "dashes and underscores": (("-" * 1000 + "\n" + "_" * 1000 + "\n") * (size // 2002), None),
        "HTML blockquotes nested 5,000 deep": ("", "<blockquote>" * 5000 + "x" * (size - 12 * 5000)
                                               + "</blockquote>" * 5000),
    }


def best(text: str, html: str | None, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        split_message(text, html)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    print(f"{'case':48s} {'size':>8s} {'ms':>8s}")
    for name, (text, html) in [("100 KB plain reply with a long thread", (reply_100k(), None)),
                               ("100 KB HTML reply (no plain part)", ("", html_100k())),
                               *pathological().items()]:
        size = len((text or "").encode()) + len((html or "").encode())
        print(f"{name:48s} {size // KB:6d}KB {best(text, html, runs=20 if size < 200 * KB else 5):8.1f}")


if __name__ == "__main__":
    main()
