"""Tools matched to a situation by its words: how close a description comes to each tool's
summary and example situations.

Two TF-IDF views are combined: word uni- and bigrams (English stop words removed, sublinear
term frequency) catch shared content words ("supplier", "contract"), and character 3-5-grams
within word boundaries catch inflections and misspellings ("arguing" ~ "argument"). A tool's
score is its best-matching text's cosine similarity, averaged over the two views.

A text is matched only when it reads as a personal situation, the kind of text the tools are
for: it must carry enough of the cues listed in ``router/data/situation_words.yaml`` (a
feeling, a choice, a plan, a conflict; a person or a part of life together with the first
person) and share at least one content word with the tool it matches. Then scores under a
floor are dropped. So questions off the subject ("what's the weather tomorrow", "what does
http 404 mean") match no tool at all, however many letters they share with an example.

scikit-learn is imported inside `fit` only, never at module import, so ``import router``
stays light. Matching itself runs on the fitted vocabularies with numpy and scipy: a query is
turned into its TF-IDF weights directly and multiplied with the precomputed sparse matrices,
and recent texts are cached. A dense sentence encoder can be added through the `Encoder`
protocol.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["DEFAULT_FLOOR", "Encoder", "TextMatcher", "is_situation", "situation_cues", "tool_documents"]

#: The lowest combined similarity reported. Measured with the shipped tools/*.yaml on
#: tests/data/words/ (benchmarks/bench_words.py prints the figures): with the situation check,
#: about 99 % of the situations in described.yaml keep a match and none of the questions in
#: offtopic.yaml get one; raw similarity alone cannot separate the two (their deciles overlap).
DEFAULT_FLOOR = 0.10
WORD_WEIGHT = 0.5
CHAR_WEIGHT = 0.5
#: The lowest word-view similarity a match needs: at least one content word in common.
MIN_WORD_SIMILARITY = 0.02
SITUATION_FILE = "situation_words.yaml"
_CACHE_SIZE = 512
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "`": "'", "\u00b4": "'"})


@runtime_checkable
class Encoder(Protocol):
    """A dense sentence encoder: texts in, one unit-length vector per text out.

    Not used by default. When given to `TextMatcher`, its cosine similarity is blended in
    with weight ``dense_weight``.
    """

    def encode(self, texts: Sequence[str]) -> Any:
        """A 2-D array of shape (len(texts), dim), rows of unit length."""
        ...


# ---------------------------------------------------------------- situation cues


@dataclass(frozen=True)
class _Situations:
    threshold: float
    person: re.Pattern[str]
    person_points: float
    kinds: tuple[tuple[str, float, re.Pattern[str]], ...]


@lru_cache(maxsize=1)
def _situations() -> _Situations:
    import yaml

    data = yaml.safe_load(resources.files("router").joinpath("data", SITUATION_FILE).read_text("utf-8"))
    kinds = []
    for name, kind in data["kinds"].items():
        alternatives = "|".join(f"(?:{c})" for c in kind["cues"])
        kinds.append((str(name), float(kind["points"]), re.compile(rf"\b(?:{alternatives})\b")))
    person = data["person"]
    return _Situations(
        threshold=float(data["threshold"]),
        person=re.compile(str(person["find"])),
        person_points=float(person["points"]),
        kinds=tuple(kinds),
    )


def situation_cues(text: str) -> tuple[float, list[str]]:
    """The cue points of ``text`` and the distinct cue words found (first person included)."""
    if not isinstance(text, str):
        return 0.0, []
    low = text.lower().translate(_QUOTES)
    table = _situations()
    points = 0.0
    found: list[str] = []
    for _name, value, regex in table.kinds:
        seen = {m.group(0) for m in regex.finditer(low)}
        points += value * len(seen)
        found.extend(sorted(seen))
    person = table.person.search(low)
    if person:
        points += table.person_points
        found.append(person.group(0))
    return points, found


def is_situation(text: str) -> bool:
    """Whether ``text`` reads as a personal situation (see ``situation_words.yaml``)."""
    return situation_cues(text)[0] >= _situations().threshold


# ---------------------------------------------------------------- the matcher


@dataclass(frozen=True)
class _View:
    """One fitted TF-IDF view: its analyzer, vocabulary, idf and document matrix (CSR)."""

    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: Any
    matrix: Any
    weight: float

    def similarities(self, text: str) -> Any:
        """Cosine similarity of ``text`` to every document, as sklearn's transform would give."""
        import numpy as np

        counts = Counter(t for t in self.analyzer(text) if t in self.vocabulary)
        if not counts:
            return None
        index = np.fromiter((self.vocabulary[t] for t in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
        values = tf * self.idf[index]
        norm = float(np.sqrt(values @ values))
        if norm == 0.0:
            return None
        query = np.zeros(self.matrix.shape[1])
        query[index] = values / norm
        return self.matrix @ query


def _view(vectorizer: Any, texts: list[str], weight: float) -> _View | None:
    try:
        matrix = vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # nothing but stop words in every text
        return None
    return _View(vectorizer.build_analyzer(), dict(vectorizer.vocabulary_), vectorizer.idf_, matrix, weight)


@dataclass
class TextMatcher:
    """Similarity of a text to each tool's texts; build with `TextMatcher.fit`."""

    floor: float = DEFAULT_FLOOR
    encoder: Encoder | None = None
    dense_weight: float = 0.0
    #: match only texts that read as a personal situation (`is_situation`)
    situations_only: bool = True
    _tools: list[str] = field(default_factory=list, repr=False)
    _starts: Any = field(default=None, repr=False)
    _word: _View | None = field(default=None, repr=False)
    _char: _View | None = field(default=None, repr=False)
    _dense_matrix: Any = field(default=None, repr=False)
    _n_docs: int = field(default=0, repr=False)
    _cache: dict[str, tuple[Any, Any]] = field(default_factory=dict, repr=False)

    @classmethod
    def fit(
        cls,
        documents: Mapping[str, Sequence[str]],
        *,
        floor: float = DEFAULT_FLOOR,
        encoder: Encoder | None = None,
        dense_weight: float = 0.0,
        situations_only: bool = True,
    ) -> TextMatcher:
        """Learn the vocabulary from ``documents`` (tool id -> its summary and examples)."""
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]  # scikit-learn ships no stubs

        matcher = cls(
            floor=floor,
            encoder=encoder,
            dense_weight=dense_weight if encoder else 0.0,
            situations_only=situations_only,
        )
        texts: list[str] = []
        starts: list[int] = []
        for tool, items in documents.items():
            kept = [t for t in items if isinstance(t, str) and t.strip()]
            if not kept:
                continue
            matcher._tools.append(tool)
            starts.append(len(texts))
            texts.extend(kept)
        if not texts:
            return matcher
        matcher._starts = np.asarray(starts, dtype=np.int64)
        matcher._n_docs = len(texts)
        matcher._word = _view(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), stop_words="english", sublinear_tf=True),
            texts,
            WORD_WEIGHT,
        )
        matcher._char = _view(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True), texts, CHAR_WEIGHT
        )
        if encoder is not None:
            matcher._dense_matrix = np.asarray(encoder.encode(texts))
        return matcher

    @property
    def tools(self) -> list[str]:
        """The tool ids this matcher knows, in the order given to `fit`."""
        return list(self._tools)

    def match(self, text: str) -> dict[str, float]:
        """Similarity in [0, 1] of ``text`` to each tool above the floor, best first; empty
        when the text does not read as a personal situation."""
        if not self._tools or not isinstance(text, str) or not text.strip():
            return {}
        if self.situations_only and not is_situation(text):
            return {}
        combined, words = self._similarities(text)
        if words is None:
            return {}
        found = {
            tool: float(min(1.0, combined[i]))
            for i, tool in enumerate(self._tools)
            if combined[i] >= self.floor and words[i] >= MIN_WORD_SIMILARITY
        }
        return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))

    def scores(self, text: str) -> dict[str, float]:
        """Similarity in [0, 1] of ``text`` to every tool, with no floor and no situation check."""
        if not self._tools or not isinstance(text, str) or not text.strip():
            return {}
        combined, _ = self._similarities(text)
        return {tool: float(min(1.0, max(0.0, combined[i]))) for i, tool in enumerate(self._tools)}

    def _similarities(self, text: str) -> tuple[Any, Any]:
        """Per tool: the combined similarity of its best text, and its best word-view
        similarity (None when no content word is shared with any tool)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        import numpy as np

        total = np.zeros(self._n_docs)
        weight = 0.0
        words = None
        for view in (self._word, self._char):
            if view is None:
                continue
            weight += view.weight
            sims = view.similarities(text)
            if sims is None:
                continue
            total += view.weight * sims
            if view is self._word:
                words = np.maximum.reduceat(sims, self._starts)
        if self.encoder is not None and self._dense_matrix is not None and self.dense_weight > 0:
            query = np.asarray(self.encoder.encode([text]))[0]
            total += self.dense_weight * (self._dense_matrix @ query)
            weight += self.dense_weight
            if words is None:
                words = np.ones(len(self._tools))
        total /= max(weight, 1e-9)
        combined = np.maximum.reduceat(total, self._starts)
        result = (combined, words)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[text] = result
        return result


def tool_documents(directory: str | Path) -> dict[str, list[str]]:
    """Tool id -> [summary, examples...] read from the tool specs (``*.yaml``) in ``directory``.

    Files that cannot be read, or lack both fields, are left out; this is for matching, not
    for checking specs (the loader does that).
    """
    import yaml

    documents: dict[str, list[str]] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(data, dict):
            continue
        texts: list[str] = []
        if isinstance(data.get("summary"), str):
            texts.append(data["summary"])
        texts.extend(e for e in data.get("examples") or [] if isinstance(e, str))
        if texts:
            documents[str(data.get("id") or path.stem)] = texts
    return documents
