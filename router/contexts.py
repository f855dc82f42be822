"""Reading a context from a file or from `feature=value` assignments, with every bad
entry located."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import ContextError, Location, Problem, closest
from .features import FeatureSet
from .yamlsource import SourceDoc, parse_yaml, read_text

MAX_CONTEXT_BYTES = 2 * 1024 * 1024


def parse_assignments(assignments: Iterable[str]) -> dict[str, object]:
    """``["stakes=high", "fatigue=true"]`` → ``{"stakes": "high", "fatigue": "true"}``."""
    context: dict[str, object] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ContextError(f"`{item}` is not of the form feature=value",
                               hint="for example --set stakes=high")
        context[name.strip()] = value
    return context


def read_context_text(text: str, name: str) -> SourceDoc:
    """A context document (YAML or JSON; JSON is YAML) from text."""
    doc = parse_yaml(text, name, max_bytes=MAX_CONTEXT_BYTES)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise ContextError("a context must be a mapping of feature names to values", at=doc.locate(()))
    return doc


def read_context_file(path: Path) -> SourceDoc:
    return read_context_text(read_text(path, max_bytes=MAX_CONTEXT_BYTES), str(path))


def locate_context_errors(doc: SourceDoc, features: FeatureSet) -> None:
    """Raise one ContextError locating every bad entry of a context document."""
    problems: list[Problem] = []
    for key, value in doc.data.items():
        if key not in features:
            problems.append(Problem(f"unknown feature `{key}`", doc.locate((key,), key=True),
                                    closest(str(key), features.names())))
            continue
        try:
            features.check_context({key: value})
        except ContextError as error:
            for p in error.problems:
                problems.append(Problem(p.message, doc.locate((key,)), p.hint))
    if problems:
        raise ContextError(problems=problems)


__all__ = ["Location", "locate_context_errors", "parse_assignments", "read_context_file", "read_context_text"]
