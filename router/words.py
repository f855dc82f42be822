"""Context features read from the words of a description, each with the words that show it.

"I have two job offers and must answer by Friday" gives `goal: decide`, `options: 2` and
`time_available: 4320` without a question asked. The rules live in
``router/data/feature_patterns.yaml``; this module applies them, one reading per feature at
most, typed as the context schema says. It also checks that a description is usable at all
(`check_description`, `text_problem`) and whether it is English, the only language the
patterns read (`is_probably_english`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import ContextError
from .prefilter import beginnings, required_all
from .screen import CONFUSABLES, _expand, _read_data, negated_before, normalise, quoted, screen_text, sentence_spans

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "Reading",
    "check_description",
    "infer_from_description",
    "is_probably_english",
    "read_features",
    "rule_ids",
    "text_problem",
]

PATTERN_FILE = "feature_patterns.yaml"

#: The longest description read, in characters. A situation told in more than about a page
#: is better told in its most important facts; the limit also bounds the cost of a reading.
MAX_DESCRIPTION_CHARS = 5000

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90,
    "a couple of": 2, "both": 2, "a few": 3, "several": 3, "half an": 0.5, "half a": 0.5,
}  # fmt: skip
_UNIT_MINUTES = {
    "sec": 1 / 60, "second": 1 / 60, "min": 1.0, "minute": 1.0, "hr": 60.0, "hour": 60.0,
    "day": 1440.0, "week": 10080.0, "month": 43200.0, "year": 525600.0,
}  # fmt: skip

# Words that make up a large share of any English text; a description in which none of them
# appear is very likely not English.
_ENGLISH_FUNCTION_WORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "don't",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "him",
        "his",
        "how",
        "i",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "it",
        "it's",
        "just",
        "me",
        "more",
        "my",
        "no",
        "not",
        "now",
        "of",
        "on",
        "or",
        "our",
        "out",
        "she",
        "should",
        "so",
        "some",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "they",
        "this",
        "to",
        "too",
        "up",
        "us",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "one",
        "two",
        "both",
        "between",
        "last",
        "night",
        "really",
        "much",
        "many",
        "like",
        "want",
        "need",
        "know",
        "think",
        "feel",
        "going",
        "got",
        "get",
        # chat spellings, so that slang and typos still read as English
        "u",
        "ur",
        "im",
        "ive",
        "dont",
        "idk",
        "tbh",
        "ngl",
        "lol",
        "pls",
        "ya",
        "wat",
        "fr",
        "rly",
    ]
)


#: the levels, lowest first, of the scored ordinal features whose rules may shift a reading
_LADDERS = {"stakes": ("trivial", "low", "moderate", "high", "critical")}


@dataclass(frozen=True)
class Reading:
    """One feature read from the words: its value, the words that show it, and the rule."""

    feature: str
    value: bool | int | float | str
    evidence: str
    pattern_id: str


@dataclass(frozen=True)
class _Rule:
    id: str
    regex: re.Pattern[str]
    value: bool | int | float | str | None
    negatable: bool
    weight: float = 1.0
    #: in a scored feature, how many different phrases of this rule count (each adds weight)
    cap: int = 1
    #: in a scored ordinal feature, a rule with a shift adds no weight: when it matches it
    #: moves the winning level that many steps ("only a", "just a": one step down)
    shift: int = 0
    #: word beginnings one of which every match contains (prefilter.required), or None: a
    #: text with none of them is not searched
    need: frozenset[str] | None = None


@dataclass(frozen=True)
class _Feature:
    name: str
    type: str
    rules: tuple[_Rule, ...]
    #: "first": the first rule with a match gives the value; "scored": every rule with a
    #: match adds its weight to its value, and the value with the largest total wins
    mode: str = "first"
    #: the word beginnings of all its rules, when each rule has them: most texts share none
    #: with a feature, and one set test then stands for every search of its rules
    need: frozenset[str] | None = None


@lru_cache(maxsize=1)
def _load() -> tuple[_Feature, ...]:
    """Read and compile the feature rules once per process."""
    data = _read_data(PATTERN_FILE)
    macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
    features = []
    found = {id(rule): _expand(str(rule["find"]), macros)
             for spec in data["features"].values() for rule in spec["rules"]}
    needs_of = dict(zip(found, required_all(list(found.values()), "prefilter-words.json")))
    for name, spec in data["features"].items():
        rules = tuple(
            _Rule(
                id=str(rule["id"]),
                regex=re.compile(found[id(rule)]),
                need=needs_of[id(rule)],
                value=_typed_value(rule.get("value"), str(spec["type"])),
                negatable=bool(rule.get("negatable", True)),
                weight=float(rule.get("weight", 1.0)),
                cap=int(rule.get("cap", 1)),
                shift=int(rule.get("shift", 0)),
            )
            for rule in spec["rules"]
        )
        mode = str(spec.get("mode", "first"))
        if mode not in ("first", "scored"):
            raise ValueError(f"{PATTERN_FILE}: feature {name}: unknown mode {mode!r}")
        needs = [r.need for r in rules if r.need is not None]
        need = frozenset().union(*needs) if rules and len(needs) == len(rules) else None
        features.append(_Feature(str(name), str(spec["type"]), rules, mode, need))
    return tuple(features)


def _typed_value(raw: Any, kind: str) -> bool | int | float | str | None:
    if raw is None:
        return None
    if kind == "boolean":
        return bool(raw)
    if kind == "number":
        return float(raw)
    if kind == "integer":
        return int(raw)
    return str(raw)


def _number(word: str | None) -> float | None:
    if word is None:
        return None
    word = word.strip()
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
    try:
        return float(word)
    except ValueError:
        return None


def _unit_minutes(unit: str | None) -> float | None:
    if not unit:
        return None
    return _UNIT_MINUTES.get(unit.rstrip("s"))


def _value_of(feature: _Feature, rule: _Rule, match: re.Match[str]) -> bool | int | float | str | None:
    groups = match.groupdict()
    if feature.name == "time_available":
        unit = _unit_minutes(groups.get("unit"))
        amount = (
            _number(groups.get("n")) if groups.get("n") else _number(None if rule.value is None else str(rule.value))
        )
        if unit is not None and amount is not None:
            return round(amount * unit, 2)
        return rule.value
    if rule.value is not None:
        return rule.value
    amount = _number(groups.get("n") or groups.get("n2"))
    if amount is None:
        return None
    if feature.type == "integer":
        return int(amount)
    if feature.name == "emotional_intensity":
        return min(10.0, max(0.0, amount))
    return amount


def read_features(text: str, *, learned: bool = True) -> list[Reading]:
    """The features the words of ``text`` show, at most one per feature, in schema order.

    Values are typed as the context schema says: a level name for ordinals and categories,
    a bool, an int for `options`, a float (minutes) for `time_available` and a float from 0 to
    10 for `emotional_intensity`. The goal and the stakes may also be read by the learned
    reading (router/feature_model.py), unless ``learned`` is false: in place of a rule's
    reading when it is confident, else where no rule reads them. Never raises on any string.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    norm = normalise(text)
    sentences = list(sentence_spans(norm.text))
    readings: list[Reading] = []
    for feature in _load():
        reading = _read_one(feature, text, norm.text, sentences, norm)
        if learned:
            # a confident learned reading overrules a rule's; one that agrees leaves the rule's
            # reading, whose evidence is the words as written
            found = _read_learned(feature.name, text, confident=reading is not None)
            if found is not None and (reading is None or found.value != reading.value):
                reading = found
        if reading is not None:
            readings.append(reading)
    return readings


def _read_learned(feature: str, text: str, *, confident: bool = False) -> Reading | None:
    from .feature_model import CONFIDENT, FEATURES, learned_value

    if feature not in FEATURES:
        return None
    found = learned_value(text, feature)
    if found is None or (confident and found[1] < CONFIDENT):
        return None
    value, probability, evidence = found
    return Reading(feature, value, evidence, f"learned-{feature} ({probability:.2f})")


def _read_one(feature: _Feature, source: str, text: str, sentences: list[tuple[int, int]], norm: Any) -> Reading | None:
    words = beginnings(text)
    if feature.need is not None and feature.need.isdisjoint(words):
        return None
    if feature.mode == "scored":
        return _read_scored(feature, source, text, sentences, norm)
    for rule in feature.rules:
        if rule.need is not None and rule.need.isdisjoint(words):
            continue
        for s0, s1 in sentences:
            sentence = text[s0:s1]
            for match in rule.regex.finditer(sentence):
                if match.end() <= match.start():
                    continue
                if rule.negatable and negated_before(sentence, match.start()):
                    continue
                value = _value_of(feature, rule, match)
                if value is None:
                    continue
                evidence = norm.original(source, s0 + match.start(), s0 + match.end())
                return Reading(feature.name, value, evidence, rule.id)
    return None


def _matches(rule: _Rule, text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans (in ``text``) of up to ``rule.cap`` different phrases ``rule`` finds, not negated."""
    spans: list[tuple[int, int]] = []
    if rule.need is not None and rule.need.isdisjoint(beginnings(text)):
        return spans
    seen: set[str] = set()
    for s0, s1 in sentences:
        sentence = text[s0:s1]
        for match in rule.regex.finditer(sentence):
            if match.end() <= match.start() or match.group(0) in seen:
                continue
            if rule.negatable and negated_before(sentence, match.start()):
                continue
            seen.add(match.group(0))
            spans.append((s0 + match.start(), s0 + match.end()))
            if len(spans) >= rule.cap:
                return spans
    return spans


def _read_scored(feature: _Feature, source: str, text: str, sentences: list[tuple[int, int]], norm: Any) -> Reading | None:
    """Each rule with a match adds its weight to its value, once per different phrase up to
    its ``cap``; the largest total wins, a tie
    going to the value whose first rule comes earlier in the file. The evidence is the
    heaviest matching rule of the winner (the earlier one on a tie)."""
    totals: dict[bool | int | float | str, float] = {}
    best: dict[bool | int | float | str, tuple[float, _Rule, tuple[int, int]]] = {}
    order: dict[bool | int | float | str, int] = {}
    shift = 0
    for index, rule in enumerate(feature.rules):
        if rule.shift:
            if not shift and _matches(rule, text, sentences):
                shift = rule.shift
            continue
        if rule.value is None:
            continue
        order.setdefault(rule.value, index)
        spans = _matches(rule, text, sentences)
        if not spans:
            continue
        totals[rule.value] = totals.get(rule.value, 0.0) + rule.weight * len(spans)
        if rule.value not in best or rule.weight > best[rule.value][0]:
            best[rule.value] = (rule.weight, rule, spans[0])
    if not totals:
        return None
    value = min(totals, key=lambda v: (-totals[v], order[v]))
    _, rule, (start, end) = best[value]
    if shift and feature.name in _LADDERS:
        ladder = _LADDERS[feature.name]
        # a step, and never below "low": "just a filling" is still a small thing, not nothing
        index = ladder.index(str(value))
        if shift > 0 or index > 1:
            value = ladder[max(1, min(len(ladder) - 1, index + shift))]
    return Reading(feature.name, value, norm.original(source, start, end), rule.id)


def rule_ids() -> dict[str, list[str]]:
    """The ids of the rules of each feature, in file order."""
    return {f.name: [r.id for r in f.rules] for f in _load()}


def infer_from_description(text: str) -> list[dict[str, object]]:
    """The `inferred` entries of a decision for a description: the safety screen's reading
    of `safety_risk` first (source `screen`), then the features read from the words
    (source `words`). Each entry has `feature`, `value`, `evidence`, `source` and `pattern`."""
    inferred: list[dict[str, object]] = []
    hits = screen_text(text)
    if hits:
        inferred.append(
            {
                "feature": "safety_risk",
                "value": True,
                "evidence": quoted(hits),
                "source": "screen",
                "pattern": ", ".join(h.pattern_id for h in hits),
            }
        )
    for r in read_features(text):
        inferred.append(
            {"feature": r.feature, "value": r.value, "evidence": r.evidence, "source": "words", "pattern": r.pattern_id}
        )
    return inferred


# ---------------------------------------------------------------- usable text


def _clean(text: str) -> str:
    """Control characters dropped; line breaks and tabs kept as spaces."""
    out = []
    for ch in text:
        if ch in "\n\r\t\x0b\x0c\u2028\u2029":
            out.append(" ")
        elif (
            unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")
            or ch in "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
        ):
            continue
        else:
            out.append(ch)
    return "".join(out).strip()


def text_problem(text: object) -> str | None:
    """Why ``text`` cannot be read as a description, or None when it can."""
    if not isinstance(text, str):
        return "description must be text"
    if len(text) > MAX_DESCRIPTION_CHARS:
        return f"description is {len(text)} characters long; the limit is {MAX_DESCRIPTION_CHARS}"
    cleaned = _clean(text)
    if not cleaned:
        return "description is empty"
    if not any(ch.isalpha() for ch in cleaned):
        return "description has no words"
    return None


def check_description(text: object) -> str:
    """The description ready to read: control characters removed, line breaks as spaces.

    Raises ContextError when it is not text, empty, or longer than MAX_DESCRIPTION_CHARS.
    """
    problem = text_problem(text)
    if problem is not None and problem != "description has no words":
        hint = "tell the situation in its most important facts" if "limit" in problem else None
        raise ContextError(problem, hint=hint)
    assert isinstance(text, str)
    return _clean(text)


def is_probably_english(text: str) -> bool:
    """Whether ``text`` reads as English, the one language the screen and the feature rules
    know. Mostly non-Latin letters, or several words and none of English's common function
    words, give False: the caller says so plainly and routes on the other features."""
    if not isinstance(text, str):
        return False
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    if text.isascii():
        latin = len(letters)  # every ASCII letter is Latin: no need to look each one up
    else:
        latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
        if latin:
            # look-alikes of Latin letters among Latin ones ("kіll" with a Cyrillic і) are English
            # in disguise: they count as Latin, and the function words below are read folded
            latin += sum(1 for ch in letters if ch.lower() in CONFUSABLES)
    if latin / len(letters) < 0.8:
        return False
    words = re.findall(r"[a-z']+", normalise(text).text)
    if len(words) < 3:
        return True
    common = sum(1 for w in words if w in _ENGLISH_FUNCTION_WORDS)
    return common / len(words) >= 0.2
