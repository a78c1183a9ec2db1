"""Files customers attach to an inquiry, from the contact form or by e-mail.

Attachments are judged by their bytes (:func:`sniff_type`), never by name or the
browser's content type: JPEG, PNG, GIF, WebP and PDF only, each at most
:data:`MAX_FILE_BYTES`, at most :data:`MAX_FILES` per message. A refused file raises
:class:`AttachmentRefused`, which names the file and the reason, and nothing is stored.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from kb.models import Attachment, TicketMessage
from kb.services.errors import InvalidInput

MAX_FILES = 3
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Types judged from the bytes; the only ones stored.
ALLOWED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
              "application/pdf": ".pdf"}


class AttachmentRefused(InvalidInput):
    """A file that cannot be attached; ``reason`` is too_many, too_big, empty or type."""

    def __init__(self, message: str, *, reason: str, filename: str = "", limit: int = 0):
        super().__init__(message, field="attachments")
        self.reason, self.filename, self.limit = reason, filename, limit


@dataclass(frozen=True)
class UploadedFile:
    """A file checked by :func:`check_attachments`: safe name, type from the bytes, data."""

    filename: str
    content_type: str
    data: bytes


def sniff_type(data: bytes) -> str | None:
    """The file's type from its first bytes, if it is one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def safe_filename(name: str, content_type: str) -> str:
    """A display name without folders or control characters, ending in the type's own extension."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*').strip(" .") or "liite"
    stem, ext = os.path.splitext(base)
    wanted = EXTENSIONS.get(content_type, "")
    if ext.lower() not in (wanted, ".jpeg" if wanted == ".jpg" else wanted):
        stem, ext = base, wanted
    return stem[:180] + ext


def check_attachment(name: str, data: bytes, *, max_bytes: int = MAX_FILE_BYTES,
                     allowed: Sequence[str] = ALLOWED_TYPES) -> UploadedFile:
    """One file, or InvalidInput (field ``attachments``) naming the file and the reason."""
    shown = os.path.basename((name or "").replace("\\", "/"))[:100] or "?"
    if len(data) > max_bytes:
        megabytes = max_bytes // (1024 * 1024)
        raise AttachmentRefused(f"{shown}: a file may be at most {megabytes} MB", reason="too_big",
                                filename=shown, limit=megabytes)
    if not data:
        raise AttachmentRefused(f"{shown}: the file is empty", reason="empty", filename=shown)
    kind = sniff_type(data)
    if kind is None or kind not in allowed:
        raise AttachmentRefused(f"{shown}: only JPEG, PNG, GIF, WebP and PDF files can be attached",
                                reason="type", filename=shown)
    return UploadedFile(safe_filename(name, kind), kind, data)


def check_attachments(files: Sequence[tuple[str, bytes]], *, max_files: int = MAX_FILES,
                      max_bytes: int = MAX_FILE_BYTES, allowed: Sequence[str] = ALLOWED_TYPES) -> list[UploadedFile]:
    """All files of one message, or InvalidInput for the first problem."""
    if len(files) > max_files:
        raise AttachmentRefused(f"attach at most {max_files} files", reason="too_many", limit=max_files)
    return [check_attachment(name, data, max_bytes=max_bytes, allowed=allowed) for name, data in files]


def add_attachments(message: TicketMessage, files: Sequence[UploadedFile]) -> None:
    message.attachments.extend(Attachment(filename=f.filename, content_type=f.content_type, size=len(f.data),
                                          data=f.data) for f in files)
