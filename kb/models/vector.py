"""Sentence-encoder vectors of stored texts: derived data, like the search index.

One row per (encoder, text): ``key`` is :func:`suggest.semantic.text_key` of the exact
text (an article's title and body, an inquiry's subject and body) and the encoder's name,
so an edited article or inquiry gets a new row and an old row is never reused for new
words. ``vector`` holds float16 bytes (384 dimensions: 768 bytes). Rows can be deleted at
any time; the worker and the command line compute missing ones again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.db import Base, UTCDateTime, utcnow


class TextVector(Base):
    __tablename__ = "text_vectors"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    encoder: Mapped[str] = mapped_column(String(80), index=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
