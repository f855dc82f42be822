"""Tools matched to a situation by its words: how close a description comes to each tool's
summary and example situations.

Two TF-IDF views are combined: word uni- and bigrams (English stop words removed, sublinear
term frequency) catch shared content words ("supplier", "contract"), and character 3-5-grams
within word boundaries catch inflections and misspellings ("arguing" ~ "argument"). A tool's
score is its best-matching text's cosine similarity, averaged over the two views. Scores under
a floor are dropped, so a question off the subject ("what's the weather tomorrow") matches
no tool at all.

scikit-learn is imported inside `fit` and `match`, never at module import, so ``import router``
stays light. A dense sentence encoder can be added through the `Encoder` protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["DEFAULT_FLOOR", "Encoder", "TextMatcher", "tool_documents"]

#: The lowest combined similarity reported. Measured with the shipped tools/*.yaml on
#: tests/data/words/ (benchmarks/bench_words.py prints the figures): at 0.15, 95 % of the
#: situations in described.yaml keep at least one tool, while about half of the off-topic
#: questions in offtopic.yaml (the weather, recipes, trivia) match none. Short off-topic
#: questions that share one word with a tool's texts ("what does http 404 mean") still pass:
#: TF-IDF over a few hundred example sentences cannot tell them apart; a dense encoder
#: (see `Encoder`) is the way to close that gap.
DEFAULT_FLOOR = 0.15
WORD_WEIGHT = 0.5
CHAR_WEIGHT = 0.5


@runtime_checkable
class Encoder(Protocol):
    """A dense sentence encoder: texts in, one unit-length vector per text out.

    Not used by default. When given to `TextMatcher`, its cosine similarity is blended in
    with weight ``dense_weight``.
    """

    def encode(self, texts: Sequence[str]) -> Any:
        """A 2-D array of shape (len(texts), dim), rows of unit length."""
        ...


@dataclass
class TextMatcher:
    """Similarity of a text to each tool's texts; build with `TextMatcher.fit`."""

    floor: float = DEFAULT_FLOOR
    encoder: Encoder | None = None
    dense_weight: float = 0.0
    _tools: list[str] = field(default_factory=list, repr=False)
    _owner: list[int] = field(default_factory=list, repr=False)
    _word: Any = field(default=None, repr=False)
    _char: Any = field(default=None, repr=False)
    _word_matrix: Any = field(default=None, repr=False)
    _char_matrix: Any = field(default=None, repr=False)
    _dense_matrix: Any = field(default=None, repr=False)

    @classmethod
    def fit(
        cls,
        documents: Mapping[str, Sequence[str]],
        *,
        floor: float = DEFAULT_FLOOR,
        encoder: Encoder | None = None,
        dense_weight: float = 0.0,
    ) -> TextMatcher:
        """Learn the vocabulary from ``documents`` (tool id -> its summary and examples)."""
        from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]  # scikit-learn ships no stubs

        matcher = cls(floor=floor, encoder=encoder, dense_weight=dense_weight if encoder else 0.0)
        texts: list[str] = []
        for tool, items in documents.items():
            kept = [t for t in items if isinstance(t, str) and t.strip()]
            if not kept:
                continue
            matcher._tools.append(tool)
            for text in kept:
                texts.append(text)
                matcher._owner.append(len(matcher._tools) - 1)
        if not texts:
            return matcher
        matcher._word = TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), stop_words="english", sublinear_tf=True, lowercase=True
        )
        matcher._char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True)
        try:
            matcher._word_matrix = matcher._word.fit_transform(texts)
        except ValueError:  # nothing but stop words in every text
            matcher._word = None
        matcher._char_matrix = matcher._char.fit_transform(texts)
        if encoder is not None:
            matcher._dense_matrix = encoder.encode(texts)
        return matcher

    @property
    def tools(self) -> list[str]:
        """The tool ids this matcher knows, in the order given to `fit`."""
        return list(self._tools)

    def match(self, text: str) -> dict[str, float]:
        """Similarity in [0, 1] of ``text`` to each tool above the floor, best first."""
        scores = self.scores(text)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return {tool: score for tool, score in ranked if score >= self.floor}

    def scores(self, text: str) -> dict[str, float]:
        """Similarity in [0, 1] of ``text`` to every tool, with no floor."""
        if not self._tools or not isinstance(text, str) or not text.strip():
            return {}
        import numpy as np

        total_weight = WORD_WEIGHT + CHAR_WEIGHT + self.dense_weight
        combined = np.zeros(len(self._owner))
        if self._word is not None:
            combined += WORD_WEIGHT * (self._word_matrix @ self._word.transform([text]).T).toarray().ravel()
        else:
            total_weight -= WORD_WEIGHT
        combined += CHAR_WEIGHT * (self._char_matrix @ self._char.transform([text]).T).toarray().ravel()
        if self.encoder is not None and self._dense_matrix is not None and self.dense_weight > 0:
            query = np.asarray(self.encoder.encode([text]))[0]
            combined += self.dense_weight * (np.asarray(self._dense_matrix) @ query)
        combined /= max(total_weight, 1e-9)
        best = np.zeros(len(self._tools))
        np.maximum.at(best, np.asarray(self._owner), combined)
        return {tool: float(min(1.0, max(0.0, best[i]))) for i, tool in enumerate(self._tools)}


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
