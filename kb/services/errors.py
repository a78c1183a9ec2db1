"""Domain errors: views turn them into messages, the CLI into exit status 2."""
from __future__ import annotations


class DomainError(Exception):
    """A request that the rules of the shop refuse."""


class NotFound(DomainError):
    """The thing does not exist, or the actor may not see it (the two look the same)."""


class InvalidInput(DomainError):
    """Bad input, naming where it was found."""

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None,
                 line: int | None = None):
        self.message, self.field, self.source, self.line = message, field, source, line
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ":".join(str(p) for p in (self.source, self.line) if p is not None)
        field = f"field '{self.field}': " if self.field else ""
        return f"{where}: {field}{self.message}" if where else f"{field}{self.message}"
