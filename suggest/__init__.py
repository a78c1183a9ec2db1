"""Neuvo's suggester: which article answers an inquiry, and which questions no article answers.

A plain library (no Flask, SQLAlchemy or ``kb`` imports).  Inputs and outputs are
the frozen dataclasses of :mod:`suggest.types`; estimators follow scikit-learn's
conventions and save to a directory as JSON + ``.npz`` (never pickle).

- :class:`ArticleMatcher` ranks articles for a text and decides ``confident``.
- :class:`GapMiner` groups a window's unanswered inquiries into topics.
- :func:`normalise_text`, :func:`detect_language`: the text front end, also for callers.
"""
from __future__ import annotations

from .gaps import GapMiner
from .language import detect_language
from .matcher import ArticleMatcher
from .normalise import clean_text, normalise_text
from .types import ArticleText, GapReport, GapTopic, InquiryText, Ranking, Suggestion

__all__ = [
    "ArticleText", "InquiryText", "Suggestion", "Ranking", "ArticleMatcher", "GapMiner", "GapTopic",
    "GapReport", "normalise_text", "clean_text", "detect_language",
]
