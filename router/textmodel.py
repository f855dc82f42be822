"""A linear text classifier kept as plain numbers: TF-IDF over word and character n-grams and
a logistic regression's weights. Fitting takes seconds, so a fitted model is cached as JSON
(never code), keyed by its training text and the scikit-learn version; a missing, stale or
unreadable cache is refitted. Shared by the learned screen and the learned reading of features.

scikit-learn is imported only when a model is first used.
"""

from __future__ import annotations

import functools
import hashlib
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

CACHE_FORMAT = 3
_WORD: dict[str, Any] = {"ngram_range": (1, 2)}
_CHAR: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (3, 5)}
# the last text read over a pair of vectorisers (keyed by its first), and its vector
_MEMO: weakref.WeakKeyDictionary[Any, tuple[str, list[tuple[Any, Any]]]] = weakref.WeakKeyDictionary()


class TextModel:
    """The fitted numbers: two vectorisers (words, characters), one row of weights per class
    (a single row for two classes, as scikit-learn keeps it) and the class names. Several
    models (heads) may share one pair of vectorisers, and then a text's vector is worked out
    once for all of them."""

    def __init__(self, vectorisers: list[Any], coef: Any, intercept: Any, classes: Sequence[str]) -> None:
        self.vectorisers = vectorisers
        self.coef = coef
        self.intercept = intercept
        self.classes = list(classes)

    def _terms(self, text: str) -> list[tuple[Any, Any]]:
        """The text's TF-IDF vector in each vectoriser, as (indices, values): what
        ``TfidfVectorizer.transform`` gives (sublinear tf, idf, l2 norm; a test checks that they
        agree), without its per-call checks, which cost more than the arithmetic for one text."""
        import numpy as np

        memo = _MEMO.get(self.vectorisers[0])
        if memo is not None and memo[0] == text:
            return memo[1]  # another head over the same vectorisers has just read this text
        if not hasattr(self, "_readers"):
            self._readers = [(v.vocabulary_, np.asarray(v.idf_, dtype=float)) for v in self.vectorisers]
        out = []
        for (vocabulary, idf), terms in zip(self._readers, _analysed(text)):
            counts: dict[int, int] = {}
            for term in terms:
                j = vocabulary.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[indices]
            norm = float(np.sqrt(values @ values))
            out.append((indices, values / norm if norm > 0 else values))
        _MEMO[self.vectorisers[0]] = (text, out)
        return out

    def _scores(self, text: str) -> tuple[Any, list[tuple[Any, Any]]]:
        terms = self._terms(text)
        scores = self.intercept.astype(float)  # a copy: the sums below never touch the model
        offset = 0
        for (indices, values), vectoriser in zip(terms, self.vectorisers):
            scores = scores + self.coef[:, offset + indices] @ values
            offset += len(vectoriser.vocabulary_)
        return scores, terms

    def _probabilities(self, scores: Any) -> Any:
        import numpy as np

        if len(self.classes) == 2 and scores.shape[0] == 1:
            positive = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.array([1.0 - positive, positive])
        exp = np.exp(scores - scores.max())
        return exp / exp.sum()

    def probabilities(self, texts: list[str]) -> Any:
        """One row per text, one column per class, each row summing to 1."""
        import numpy as np

        return np.array([self._probabilities(self._scores(t)[0]) for t in texts]).reshape(len(texts), -1)

    def probability(self, texts: list[str], label: str) -> Any:
        """The probability of ``label`` for each text."""
        return self.probabilities(texts)[:, self.classes.index(label)]

    def read(self, text: str, count: int = 3) -> tuple[str, float, list[str]]:
        """The most likely label of ``text``, its probability, and the words and word pairs
        of the text that weigh most towards it (its evidence; none that are only stop words)."""
        scores, terms = self._scores(text)
        row = self._probabilities(scores)
        best = int(row.argmax())
        indices, values = terms[0]
        binary = len(self.classes) == 2 and self.coef.shape[0] == 1
        weights = self.coef[0, indices] * (1.0 if best == 1 else -1.0) if binary else self.coef[best, indices]
        names = self._word_names()
        pull = sorted(((float(v * w), names[int(j)]) for j, v, w in zip(indices, values, weights)), reverse=True)
        chosen: list[str] = []
        for amount, term in pull:
            if amount <= 0 or len(chosen) == count:
                break
            # "the" may weigh, but it shows nothing a person could check
            if set(term.split()) <= _stop_words() or any(term in other or other in term for other in chosen):
                continue
            chosen.append(term)
        return self.classes[best], float(row[best]), chosen

    def _word_names(self) -> list[str]:
        if not hasattr(self, "_names"):
            self._names = [str(n) for n in self.vectorisers[0].get_feature_names_out()]
        return self._names


@functools.lru_cache(maxsize=8)
def _analysed(text: str) -> tuple[tuple[str, ...], ...]:
    """The word and character n-grams of ``text``, once for every model: all are built with the
    same two vectoriser settings (``_vectorisers``), and a description goes to several models
    (the learned screen, goal, stakes), where splitting it costs more than the sums."""
    return tuple(tuple(analyse(text)) for analyse in _analysers())


@functools.lru_cache(maxsize=1)
def _analysers() -> list[Callable[[str], list[str]]]:
    return [v.build_analyzer() for v in _vectorisers()]


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # type: ignore[import-untyped]  # no stubs

    return frozenset(ENGLISH_STOP_WORDS)


def _vectorisers(vocabularies: list[dict[str, int]] | None = None) -> list[Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return [TfidfVectorizer(sublinear_tf=True, vocabulary=vocabularies[i] if vocabularies else None, **kw)
            for i, kw in enumerate((_WORD, _CHAR))]


def fit(texts: list[str], labels: list[str], *, c: float) -> TextModel:
    """A logistic regression with balanced class weights over both vectorisers."""
    return fit_heads(texts, {"": list(labels)}, c=c)[""]


def fit_heads(texts: list[str], heads: dict[str, list[str | None]], *, c: float) -> dict[str, TextModel]:
    """One logistic regression per head (its labels, None for a text it has none for) over
    one pair of vectorisers fitted on all the texts."""
    import numpy as np
    from scipy.sparse import hstack  # type: ignore[import-untyped]  # no stubs
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # no stubs

    vectorisers = _vectorisers()
    features = hstack([v.fit_transform(texts) for v in vectorisers]).tocsr()
    models = {}
    for name, labels in heads.items():
        rows = [i for i, label in enumerate(labels) if label is not None]
        fitted = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        fitted.fit(features[rows], [labels[i] for i in rows])
        models[name] = TextModel(vectorisers, np.asarray(fitted.coef_, dtype=float),
                                 np.asarray(fitted.intercept_, dtype=float), [str(k) for k in fitted.classes_])
    return models


def _key(text: str, settings: str) -> str:
    import sklearn  # type: ignore[import-untyped]  # no stubs

    return hashlib.sha256(f"{CACHE_FORMAT}|{sklearn.__version__}|{settings}|{text}".encode()).hexdigest()


def _from_cache(path: Path, key: str) -> dict[str, TextModel] | None:
    import numpy as np

    from .loadcache import read_json

    stored = read_json(path, key)
    if stored is None:
        return None
    try:
        vectorisers = _vectorisers([dict(v["vocabulary"]) for v in stored["vectorisers"]])
        for vectoriser, kept in zip(vectorisers, stored["vectorisers"]):
            vectoriser.idf_ = np.asarray(kept["idf"], dtype=float)
        return {str(name): TextModel(vectorisers, np.asarray(head["coef"], dtype=float),
                                     np.asarray(head["intercept"], dtype=float), [str(c) for c in head["classes"]])
                for name, head in stored["heads"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def cached(name: str, training_text: str, build: Callable[[], dict[str, TextModel]], *,
           settings: str = "") -> dict[str, TextModel]:
    """The models (heads sharing their vectorisers, as ``fit_heads`` gives) for
    ``training_text`` and the fitting ``settings`` (such as "c=10") from the cache file
    ``name``, or ``build()`` (then cached): a change to either refits."""
    from .loadcache import cache_file, write_json

    key = _key(training_text, settings)
    path = cache_file(name)
    if path is not None:
        found = _from_cache(path, key)
        if found is not None:
            return found
    models = build()
    if path is not None and models:
        shared = next(iter(models.values())).vectorisers
        write_json(path, {"key": key,
                          "vectorisers": [{"vocabulary": {t: int(i) for t, i in v.vocabulary_.items()},
                                           "idf": v.idf_.tolist()} for v in shared],
                          "heads": {head: {"classes": m.classes, "intercept": m.intercept.tolist(),
                                           "coef": m.coef.tolist()} for head, m in models.items()}})
    return models
