"""One small family of user-facing errors, each with a location where there is one.

DiscernError
├── SpecError          a tool, policy, belief-system or mapping file is wrong
│   └── ConditionError a condition does not parse or does not type-check
├── ContextError       a context given to ``route()`` is wrong
└── AuditError         the audit store cannot be read or written
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line and column."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One located message, with an optional hint on its own line."""

    message: str
    location: Location | None = None
    hint: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location or Location("")
        return (loc.file, loc.line, loc.column, self.message)


class DiscernError(Exception):
    """Base of every error a user can cause; carries one or more located problems."""

    def __init__(
        self,
        message: str = "",
        *,
        at: Location | None = None,
        hint: str | None = None,
        problems: Iterable[Problem] | None = None,
    ) -> None:
        found = sorted(problems or [], key=Problem.sort_key)
        if not found:
            found = [Problem(message, at, hint)]
        self.problems: list[Problem] = found
        super().__init__(message or found[0].message)

    @property
    def location(self) -> Location | None:
        return self.problems[0].location

    @property
    def message(self) -> str:
        return self.problems[0].message

    @property
    def hint(self) -> str | None:
        return self.problems[0].hint

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class SpecError(DiscernError):
    """A tool spec, policy, belief system or mapping file is wrong."""


class ConditionError(SpecError):
    """A ``when`` condition does not parse or does not type-check."""


class ContextError(DiscernError):
    """A context given to ``route()`` names an unknown feature or an invalid value."""


class AuditError(DiscernError):
    """The audit store cannot be opened, read or written."""


def closest(word: str, choices: Iterable[str]) -> str | None:
    """A did-you-mean hint for a misspelt name, or None."""
    import difflib

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{match[0]}`?" if match else None
