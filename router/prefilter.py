"""A cheap test that rules a regex out before it is searched: a word beginning that every
match must contain.

The screen's patterns and the feature rules are long lists of phrasings (``\\bi (?:am|feel)
ready to die\\b``), and Python's regex engine tries every alternative at every position, so
a description that matches nothing costs as much to search as one that matches. Every match
of that pattern contains a word beginning with "ready"; a set of the description's word
beginnings, built once, lets a look-up skip the search wherever "ready" is not among them.

The required beginnings are read from the pattern's parse tree: a run of letters that starts
a word (after a word boundary, the pattern's start, or a space or other non-word character)
and that no alternative can avoid. Where none can be told (a pattern made only of classes,
flags, or optional parts), ``required`` gives None and the pattern is always searched: the
test can only skip searches that could not match, never a match.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

try:  # the regex parser: re._parser from Python 3.11, sre_parse before
    _sre: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - Python 3.10
    _sre = importlib.import_module("sre_parse")

_WORD_CHAR = re.compile(r"\w")
_WORD = re.compile(r"\w+")

# One of these word beginnings is in every match; the empty set is never used (None instead).
Required = frozenset[str]


def required(pattern: str | re.Pattern[str]) -> Required | None:
    """Word beginnings one of which every match of ``pattern`` contains, or None when none
    can be told from the pattern."""
    text = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
    try:
        tree = _sre.parse(text)
    except (re.error, RecursionError):
        return None
    flags = tree.state.flags | (pattern.flags if isinstance(pattern, re.Pattern) else 0)
    if flags & (re.IGNORECASE | re.LOCALE | re.VERBOSE | re.ASCII):
        return None  # the letters of the pattern are not the letters of a match
    return _sequence(list(tree), at_word_start=False)


# Bumped whenever ``required`` would read a pattern differently, so that cached readings go.
VERSION = 1


def required_all(patterns: Sequence[str], name: str) -> list[Required | None]:
    """``required`` of each pattern. Reading hundreds of long patterns costs most of a second
    at each start, so the readings are kept in the load cache (file ``name``), keyed by the
    patterns themselves."""
    import hashlib

    from .loadcache import cache_file, read_json, write_json

    key = hashlib.sha256(f"{VERSION}|{_sre.__name__}|".encode() + "\0".join(patterns).encode()).hexdigest()
    path = cache_file(name)
    stored = read_json(path, key) if path is not None else None
    if stored is not None:
        try:
            if len(stored["required"]) == len(patterns):
                return [None if r is None else frozenset(map(str, r)) for r in stored["required"]]
        except (KeyError, TypeError):
            pass
    found = [required(p) for p in patterns]
    if path is not None:
        write_json(path, {"key": key, "required": [None if r is None else sorted(r) for r in found]})
    return found


@lru_cache(maxsize=16)
def beginnings(text: str) -> frozenset[str]:
    """Every beginning of every word of ``text`` (words as ``\\w+`` finds them)."""
    out: set[str] = set()
    for word in _WORD.findall(text):
        out.update(word[:n] for n in range(1, len(word) + 1))
    return frozenset(out)


def _better(a: Required | None, b: Required | None) -> Required | None:
    """The more selective of two requirements: the one whose shortest beginning is longest
    (a longer beginning is in fewer texts), then the one with fewer alternatives."""
    if a is None:
        return b
    if b is None:
        return a
    score_a, score_b = (min(map(len, a)), -len(a)), (min(map(len, b)), -len(b))
    return a if score_a >= score_b else b


def _sequence(items: Sequence[tuple[Any, Any]], *, at_word_start: bool) -> Required | None:
    """The best requirement of a sequence of parsed items: every part of a sequence is in
    every match, so any part's requirement is the sequence's."""
    best: Required | None = None
    run = ""  # letters that began at a word start, still going
    starts_word = at_word_start
    for op, arg in items:
        if op is _sre.LITERAL:
            char = chr(arg)
            if _WORD_CHAR.match(char):
                if run or starts_word:
                    run += char
                starts_word = False
                continue
            best = _better(best, frozenset({run}) if run else None)
            run, starts_word = "", True  # a non-word character: a word starts after it
            continue
        best = _better(best, frozenset({run}) if run else None)
        run = ""
        if op is _sre.AT:
            # a boundary, or the start of the text, is followed by the start of a word when
            # a letter follows; the end of the text is followed by nothing
            starts_word = arg in (_sre.AT_BOUNDARY, _sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING)
            continue
        if op is _sre.ASSERT or op is _sre.ASSERT_NOT:
            continue  # a lookaround takes no characters: where a word starts is unchanged
        if op is _sre.BRANCH:
            best = _better(best, _alternatives([list(b) for b in arg[1]], starts_word))
            starts_word = _ends_outside_word([(op, arg)])
        elif op is _sre.SUBPATTERN and not (arg[1] or arg[2]):
            best = _better(best, _sequence(list(arg[3]), at_word_start=starts_word))
            starts_word = _ends_outside_word(list(arg[3]))
        elif op is _sre.MAX_REPEAT or op is _sre.MIN_REPEAT:
            low, _high, body = arg
            if low >= 1:
                best = _better(best, _sequence(list(body), at_word_start=starts_word))
            # "(?:the )?word": with or without "the ", "word" starts a word
            starts_word = _ends_outside_word(list(body)) and (low >= 1 or starts_word)
        else:
            starts_word = False  # after anything else, where a word starts is not known
    return _better(best, frozenset({run}) if run else None)


def _ends_outside_word(items: Sequence[tuple[Any, Any]]) -> bool:
    """Whether every match of the sequence ends with a non-word character (so that a letter
    after it starts a word)."""
    if not items:
        return False
    op, arg = items[-1]
    if op is _sre.LITERAL:
        return _WORD_CHAR.match(chr(arg)) is None
    if op is _sre.BRANCH:
        return all(_ends_outside_word(list(b)) for b in arg[1])
    if op is _sre.SUBPATTERN and not (arg[1] or arg[2]):
        return _ends_outside_word(list(arg[3]))
    return False


def _alternatives(branches: list[list[tuple[Any, Any]]], at_word_start: bool) -> Required | None:
    """One of the branches matches: the union of their requirements, when each has one."""
    out: set[str] = set()
    for branch in branches:
        found = _sequence(branch, at_word_start=at_word_start)
        if found is None:
            return None
        out |= found
    return frozenset(out)
