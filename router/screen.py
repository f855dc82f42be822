"""The safety screen: signs of a risk of harm read from a description's own words.

A person may write "I know how I'll do it" and never tick `safety_risk`. This module reads
the description for intent, plan or means to harm oneself, self-injury, harm to or from
another person, stalking and medical emergencies. The patterns and the guards that drop
figurative, negated, fictional, professional and resolved-past uses live in
``router/data/screen_patterns.yaml`` (read it to see what the screen looks for); this
module only applies them.

Recall comes first: a missed crisis is the worst error, while a false alarm costs one
confirming question. A guard only drops a hit of its own sentence.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from .prefilter import beginnings, required_all

__all__ = [
    "CONFUSABLES",
    "Normalised",
    "ScreenHit",
    "fold_letter",
    "negated_before",
    "normalise",
    "pattern_ids",
    "pattern_why",
    "screen_text",
    "screen_version",
    "sentence_spans",
]

PATTERN_FILE = "screen_patterns.yaml"

# Characters folded before any pattern is searched. Curly quotes and dashes become their
# plain forms so that "can’t" reads as "can't".
_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": " - ", "\u2212": "-", "\u2026": "...", "\u00a0": " ",
}  # fmt: skip
# Letters of other scripts that look like Latin ones ("kіll" with a Cyrillic і), folded to
# the Latin letter before any pattern is searched, so that a look-alike never hides a word.
# Keys are lowercase; the text is lowercased first.
CONFUSABLES = {
    # Cyrillic
    "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0451": "e", "\u04bb": "h", "\u043d": "h",
    "\u0456": "i", "\u0457": "i", "\u04cf": "l", "\u0458": "j", "\u043a": "k", "\u043c": "m",
    "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0442": "t", "\u0443": "y", "\u0445": "x",
    "\u0455": "s", "\u0501": "d", "\u051b": "q", "\u051d": "w", "\u0491": "r",
    # Greek
    "\u03b1": "a", "\u03b2": "b", "\u03b3": "y", "\u03b5": "e", "\u03b7": "n", "\u03b9": "i",
    "\u03ba": "k", "\u03bd": "v", "\u03bf": "o", "\u03c1": "p", "\u03c4": "t", "\u03c5": "u",
    "\u03c7": "x", "\u03c9": "w", "\u03f2": "c", "\u03f3": "j",
    # Armenian
    "\u0585": "o", "\u057d": "u", "\u0570": "h", "\u0578": "n",
    # Latin letters that no decomposition brings back to a plain one
    "\u0131": "i", "\u0237": "j", "\u0251": "a", "\u0261": "g", "\u0269": "i", "\u026a": "i",
    "\u0142": "l", "\u00f8": "o", "\u0111": "d", "\u0127": "h", "\u029f": "l", "\u1d0b": "k",
}  # fmt: skip
# Characters with no width, dropped so that "ki\u200bll" reads as "kill".
_INVISIBLE = frozenset("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
# a full stop after a number ends a sentence when a space follows ("i was 19. now"), not inside one ("1.9")
_SENTENCE_END = re.compile(r"(?<!\d)[.!?]+(?!\d)|(?<=\d)[.!?]+(?=\s)|\n+")


@dataclass(frozen=True)
class ScreenHit:
    """One sign of risk: the pattern that found it, its category, and the words as written."""

    pattern_id: str
    category: str
    evidence: str


@dataclass(frozen=True)
class Normalised:
    """Lowercased, folded text, with the span of the original that each character came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original(self, source: str, start: int, end: int) -> str:
        """The words of ``source`` behind ``text[start:end]``, as written."""
        if end <= start or start >= len(self.starts):
            return ""
        return source[self.starts[start] : self.ends[end - 1]].strip()


@dataclass(frozen=True)
class _Pattern:
    id: str
    category: str
    first_person: bool
    why: str
    regexes: tuple[re.Pattern[str], ...]
    # a hit is dropped when its sentence matches this (words that give the hit a plain sense)
    unless: re.Pattern[str] | None = None
    # the regexes (by position) with no word that every match must contain (prefilter.required):
    # searched in every sentence; the others only where ``_Screen.starts`` lets them
    unfiltered: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Screen:
    version: int
    rules: tuple[tuple[re.Pattern[str], str], ...]
    patterns: tuple[_Pattern, ...]
    negation_window: int
    negation_cues: re.Pattern[str]
    negation_pseudo: re.Pattern[str]
    terminators: re.Pattern[str]
    new_subject: re.Pattern[str]
    idioms: tuple[re.Pattern[str], ...]
    fiction: re.Pattern[str]
    professional: re.Pattern[str]
    past: re.Pattern[str]
    resolved: re.Pattern[str]
    present: re.Pattern[str]
    past_after: re.Pattern[str]
    past_tense: re.Pattern[str]
    over: re.Pattern[str]
    far_past: re.Pattern[str]
    joking: re.Pattern[str]
    fiction_frame: re.Pattern[str]
    returning: re.Pattern[str]
    asked: re.Pattern[str]
    denied: re.Pattern[str]
    # word beginning -> the (pattern, regex) positions a match can start with it: most
    # sentences share a first word with few regexes, and a look-up costs far less than a search
    starts: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)


def _read_data(name: str) -> Any:
    return yaml.safe_load(resources.files("router").joinpath("data", name).read_text("utf-8"))


def _expand(regex: str, macros: dict[str, str]) -> str:
    # macros may name other macros; a few rounds settle them
    for _ in range(4):
        regex = re.sub(r"\{([A-Z][A-Z0-9_]*)\}", lambda m: macros.get(m.group(1), m.group(0)), regex)
    return regex


@lru_cache(maxsize=1)
def _load() -> _Screen:
    """Read and compile the pattern file once per process."""
    data = _read_data(PATTERN_FILE)
    macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
    patterns = []
    for item in data["patterns"]:
        regexes = tuple(re.compile(_expand(r, macros)) for r in item["regex"])
        patterns.append(
            _Pattern(
                id=str(item["id"]),
                category=str(item["category"]),
                first_person=bool(item.get("first_person", False)),
                why=str(item["why"]),
                regexes=regexes,
                unless=re.compile(_expand(str(item["unless"]), macros)) if item.get("unless") else None,
            )
        )
    patterns, starts = _prefiltered(patterns)
    guards = data["guards"]
    negation = guards["negation"]
    past = guards["resolved_past"]
    return _Screen(
        version=int(data["version"]),
        rules=compile_rules(data.get("normalise") or []),
        patterns=tuple(patterns),
        negation_window=int(negation["window"]),
        negation_cues=re.compile(negation["cues"]),
        negation_pseudo=re.compile(negation["pseudo"]),
        terminators=re.compile(negation["terminators"]),
        new_subject=re.compile(negation["new_subject"]),
        idioms=tuple(re.compile(_expand(i, macros)) for i in guards["idioms"]),
        fiction=re.compile(guards["fiction"]["markers"]),
        professional=re.compile(guards["professional"]["markers"]),
        past=re.compile(past["past"]),
        resolved=re.compile(past["resolved"]),
        present=re.compile(past["present"]),
        past_after=re.compile(past["past_after"]),
        past_tense=re.compile(past["past_tense"]),
        over=re.compile(past["over"]),
        far_past=re.compile(past["far_past"]),
        joking=re.compile(guards["joking"]["disclaimer"]),
        fiction_frame=re.compile(guards["fiction_frame"]["frame"]),
        returning=re.compile(past["returning"]),
        asked=re.compile(guards["questioned"]["asked"]),
        denied=re.compile(guards["questioned"]["denied"]),
        starts=starts,
    )


def _prefiltered(patterns: list[_Pattern]) -> tuple[list[_Pattern], dict[str, tuple[tuple[int, int], ...]]]:
    """The patterns with the regexes that every sentence must be searched with marked, and
    each word beginning with the (pattern, regex) positions whose matches contain it."""
    needs = iter(required_all([r.pattern for p in patterns for r in p.regexes], "prefilter-screen.json"))
    index: dict[str, list[tuple[int, int]]] = {}
    marked = []
    for p, pattern in enumerate(patterns):
        unfiltered = set()
        for r in range(len(pattern.regexes)):
            need = next(needs)
            if need is None:
                unfiltered.add(r)
            for beginning in need or ():
                index.setdefault(beginning, []).append((p, r))
        marked.append(dataclasses.replace(pattern, unfiltered=frozenset(unfiltered)))
    return marked, {beginning: tuple(found) for beginning, found in index.items()}


def compile_rules(items: list[dict[str, str]]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Compile ``{find, replace}`` normalising rules, in order."""
    return tuple((re.compile(str(r["find"])), str(r["replace"])) for r in items)


# ASCII text folds character for character: control characters become spaces (line breaks
# stay), a backtick a quote, letters lowercase; then each run of spaces becomes one.
_ASCII_FOLD = str.maketrans({**{chr(i): " " for i in range(32)}, "\x7f": " ", "`": "'",
                             "\n": "\n", "\r": "\n", "\x0b": "\n", "\x0c": "\n"})
_SPACE_RUN = re.compile(r"[ \n]+")


def _fold_ascii(text: str) -> Normalised:
    """What ``_fold`` gives for ASCII text (a test holds the two equal), without a step of
    Python per character."""
    folded = text.translate(_ASCII_FOLD).lower()
    pieces: list[str] = []
    starts: list[int] = []
    pos = 0
    for m in _SPACE_RUN.finditer(folded):
        a, b = m.span()
        pieces.append(folded[pos:a])
        starts.extend(range(pos, a))
        if a > 0 and b < len(folded):
            pieces.append("\n" if "\n" in m.group() else " ")
            starts.append(a)
        pos = b
    pieces.append(folded[pos:])
    starts.extend(range(pos, len(folded)))
    return Normalised("".join(pieces), tuple(starts), tuple(i + 1 for i in starts))


def _fold(text: str) -> Normalised:
    return _fold_ascii(text) if text.isascii() else _fold_any(text)


def _fold_any(text: str) -> Normalised:
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last_space = True
    for i, ch in enumerate(text):
        if ch in _FOLD:
            piece = _FOLD[ch]
        elif ch in "\n\r\u2028\u2029\x0b\x0c":
            piece = "\n"
        elif ch in _INVISIBLE:
            continue
        elif ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            piece = " "
        else:
            piece = "".join(fold_letter(c) for c in unicodedata.normalize("NFKC", ch).lower())
        for c in piece:
            if c in " \n":
                if last_space:
                    if c == "\n" and out and out[-1] == " ":
                        out[-1] = "\n"
                    continue
                last_space = True
            else:
                last_space = False
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
    while out and out[-1] in " \n":
        out.pop()
        starts.pop()
        ends.pop()
    return Normalised("".join(out), tuple(starts), tuple(ends))


def fold_letter(ch: str) -> str:
    """One lowercase character as the screen reads it: accents and other combining marks
    dropped, and a look-alike of a Latin letter made that letter (see ``CONFUSABLES``)."""
    if ch in CONFUSABLES:
        return CONFUSABLES[ch]
    if ch.isascii():
        return ch
    if unicodedata.category(ch) == "Mn":
        return ""
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
    return CONFUSABLES.get(base, base) if base else ch


def _rewrite(norm: Normalised, regex: re.Pattern[str], replace: str) -> Normalised:
    if regex.search(norm.text) is None:
        return norm
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in regex.finditer(norm.text):
        out.append(norm.text[pos : m.start()])
        starts.extend(norm.starts[pos : m.start()])
        ends.extend(norm.ends[pos : m.start()])
        new = m.expand(replace)
        if m.end() > m.start():
            first, last = norm.starts[m.start()], norm.ends[m.end() - 1]
        else:  # an empty match: the new text stands where it matched
            here = norm.starts[m.start()] if m.start() < len(norm.starts) else (norm.ends[-1] if norm.ends else 0)
            first = last = here
        out.append(new)
        starts.extend([first] * len(new))
        ends.extend([last] * len(new))
        pos = m.end()
    out.append(norm.text[pos:])
    starts.extend(norm.starts[pos:])
    ends.extend(norm.ends[pos:])
    return Normalised("".join(out), tuple(starts), tuple(ends))


def normalise(text: str, rules: tuple[tuple[re.Pattern[str], str], ...] | None = None) -> Normalised:
    """Lowercase, fold quotes and whitespace, expand contractions; keep the way back to ``text``."""
    return _normalised(text, _load().rules if rules is None else rules)


@lru_cache(maxsize=16)
def _normalised(text: str, rules: tuple[tuple[re.Pattern[str], str], ...]) -> Normalised:
    # the screen and the reading of features each normalise the same description: once is enough
    norm = _fold(text)
    for regex, replace in rules:
        norm = _rewrite(norm, regex, replace)
    return norm


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of normalised text, ends excluded."""
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > pos:
            yield pos, m.start()
        pos = m.end()
    if pos < len(text):
        yield pos, len(text)


def _clause_bounds(screen: _Screen, sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause around ``sentence[start:end]``: from the last terminator before it to the
    first one after it."""
    left = 0
    for m in screen.terminators.finditer(sentence, 0, start):
        left = m.end()
    right = len(sentence)
    after = screen.terminators.search(sentence, end)
    if after:
        right = after.start()
    return left, right


def _is_negated(screen: _Screen, sentence: str, start: int) -> bool:
    left, _ = _clause_bounds(screen, sentence, start, start)
    words = sentence[left:start].split()[-screen.negation_window :]
    window = " ".join(words)
    # pseudo-negations may run on into the hit itself ("cannot | decide"), so they are
    # looked for in the window followed by the start of the hit
    ahead = window + " " + sentence[start : start + 40]
    pseudo = [m.span() for m in screen.negation_pseudo.finditer(ahead)]
    for cue in screen.negation_cues.finditer(window):
        if any(a <= cue.start() and cue.end() <= b for a, b in pseudo):
            continue
        # a new subject after the negation begins another statement: "i never told anyone
        # i cut myself", "if i do not get the job i am going to end it"
        if screen.new_subject.search(ahead[cue.end() : len(window) + 3]):
            continue
        return True
    return False


def _in_idiom(screen: _Screen, sentence: str, start: int, end: int) -> bool:
    for idiom in screen.idioms:
        for m in idiom.finditer(sentence):
            if m.start() < end and start < m.end():
                return True
    return False


def _is_resolved_past(screen: _Screen, sentence: str, following: str, start: int, end: int) -> bool:
    left, right = _clause_bounds(screen, sentence, start, end)
    clause = sentence[left:right]
    after = sentence[end:] + " " + following
    if screen.present.search(clause) or screen.returning.search(after):
        return False
    if screen.far_past.search(clause) and screen.past_tense.search(clause):
        return True  # "someone pulled a knife on me in paris years ago", and nothing came back
    far_past = screen.past_after.search(sentence[end:]) or screen.past_after.search(following)
    if not screen.past.search(sentence[:right]):
        # a past-tense clause set in the past later on: by a time later in its sentence ("my
        # ex was violent, but i left him in 2015"), a later "that was thirty years ago", or a
        # plain "that is long behind me"
        if not screen.past_tense.search(clause):
            return False
        if not (screen.past.search(sentence[right:]) or far_past or screen.over.search(after)):
            return False
    # said to be over; "that was twelve years ago" with nothing after it coming back is over too
    return bool(screen.resolved.search(after) or screen.over.search(after) or far_past)


# an "i" in the few words before "asked", "wonder", ... makes it the writer's own question
_WRITER_NEAR = re.compile(r"\bi\b")
_WRITER_REACH = 24


def _is_questioned(screen: _Screen, sentence: str, following: str, start: int, end: int) -> bool:
    """"my therapist asked whether i self-harm. i do not": someone else's question or belief,
    denied after it."""
    # the writer's own question ("i wonder if", "i have been thinking that") is no one else's
    asked = any(not _WRITER_NEAR.search(sentence, max(0, m.start() - _WRITER_REACH), m.start())
                for m in screen.asked.finditer(sentence, 0, start))
    if not asked:
        return False
    return bool(screen.denied.search(sentence, end) or screen.denied.search(following))


def _suppressed(screen: _Screen, pattern: _Pattern, sentence: str, context: tuple[str, str],
                start: int, end: int) -> bool:
    previous, following = context
    if _in_idiom(screen, sentence, start, end) or _is_negated(screen, sentence, start):
        return True
    if _is_questioned(screen, sentence, following, start, end) or screen.joking.search(sentence, end):
        return True
    if screen.fiction_frame.search(sentence, 0, start):
        return True
    if not pattern.first_person and (screen.fiction.search(sentence) or screen.professional.search(sentence)
                                     or screen.professional.search(previous)):
        return True
    return _is_resolved_past(screen, sentence, following, start, end)


def quoted(hits: list[ScreenHit]) -> str:
    """The words the hits quote, each once, in reading order (two patterns may quote the same)."""
    return "; ".join(dict.fromkeys(h.evidence for h in hits))


def screen_text(text: str) -> list[ScreenHit]:
    """Every sign of a risk of harm in ``text``, one per pattern, in reading order.

    An empty list means the words show no sign the patterns know; it is not a promise of
    safety. Never raises on any string.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    screen = _load()
    norm = normalise(text, screen.rules)
    spans = list(sentence_spans(norm.text))
    found: dict[str, tuple[int, ScreenHit]] = {}
    for index, (s0, s1) in enumerate(spans):
        sentence = norm.text[s0:s1]
        following = norm.text[spans[index + 1][0] : spans[index + 1][1]] if index + 1 < len(spans) else ""
        previous = norm.text[spans[index - 1][0] : spans[index - 1][1]] if index > 0 else ""
        candidates: dict[int, set[int]] = {}
        for beginning in beginnings(sentence):
            for p, r in screen.starts.get(beginning, ()):
                candidates.setdefault(p, set()).add(r)
        for p, pattern in enumerate(screen.patterns):
            if pattern.id in found:
                continue
            allowed = candidates.get(p, set()) | pattern.unfiltered
            if not allowed:
                continue
            hit = _first_hit(screen, pattern, sentence, (previous, following), allowed)
            if hit is not None:
                start, end = hit
                evidence = norm.original(text, s0 + start, s0 + end)
                found[pattern.id] = (s0 + start, ScreenHit(pattern.id, pattern.category, evidence))
    return [hit for _, hit in sorted(found.values(), key=lambda pair: pair[0])]


def _first_hit(screen: _Screen, pattern: _Pattern, sentence: str, context: tuple[str, str],
               allowed: set[int] | frozenset[int] | None = None) -> tuple[int, int] | None:
    """The first unsuppressed hit of the pattern in the sentence; ``context`` is the
    sentences before and after it; ``allowed``, the positions of the regexes that can match
    there (all when None)."""
    best: tuple[int, int] | None = None
    plain: bool | None = None  # whether ``unless`` matches, looked at once a regex does
    for r, regex in enumerate(pattern.regexes):
        if allowed is not None and r not in allowed:
            continue
        for m in regex.finditer(sentence):
            if m.end() <= m.start():
                continue
            if plain is None:
                plain = pattern.unless is not None and pattern.unless.search(sentence) is not None
            if plain:
                return None
            if best is not None and m.start() >= best[0]:
                break
            if not _suppressed(screen, pattern, sentence, context, m.start(), m.end()):
                best = (m.start(), m.end())
                break
    return best


def negated_before(sentence: str, start: int) -> bool:
    """Whether a negation word stands shortly before ``sentence[start:]`` in its clause
    (``sentence`` normalised); the screen's own negation guard, shared with the word reader."""
    return _is_negated(_load(), sentence, start)


def pattern_ids() -> list[str]:
    """The ids of every screen pattern, in file order."""
    return [p.id for p in _load().patterns]


def pattern_why(pattern_id: str) -> str | None:
    """Why the screen looks for a pattern (its ``why`` line), or None for an unknown id."""
    for p in _load().patterns:
        if p.id == pattern_id:
            return p.why
    return None


def screen_version() -> int:
    """The ``version`` of the pattern file in use."""
    return _load().version
