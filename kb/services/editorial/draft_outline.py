"""The outline a draft made from a suggested topic starts with, and whether its placeholders are still there.

The outline's hint ("write the answer here") and its note above the customers' own questions are
meant to be replaced; an article that still has either one is not ready for readers.
"""
from __future__ import annotations

#: Per language: the answer heading, its placeholder hint, the questions heading and its note.
OUTLINE = {
    "fi": ("Vastaus", "Kirjoita tähän lyhyt ja selkeä vastaus.", "Kysymykset asiakkailta",
           "Asiakkaat kysyivät näin (korvaa tämä osio vastauksella ennen julkaisua):"),
    "sv": ("Svar", "Skriv ett kort och tydligt svar här.", "Frågor från kunder",
           "Kunderna frågade så här (ersätt avsnittet med svaret före publicering):"),
    "en": ("Answer", "Write a short, clear answer here.", "Questions from customers",
           "Customers asked this (replace this section with the answer before publishing):"),
}

_PLACEHOLDERS = tuple(text for _, hint, _, note in OUTLINE.values() for text in (hint, note))


def has_placeholders(body: str) -> bool:
    """Whether ``body`` still holds an outline's hint or its note above the customers' questions."""
    return any(text in (body or "") for text in _PLACEHOLDERS)
