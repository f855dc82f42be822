"""A learned screen beside the rules: a TF-IDF logistic regression over the labelled risk and
harmless statements that ship with the package, which adds recall where a phrasing has no
rule yet. It only ever adds a risk reading: it never clears one the rules found.

Fitted on first use and then read from the cache (scikit-learn is imported only for a
description); off with ``DISCERN_SCREEN_MODEL=off``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRAINING_FILE = Path(__file__).with_name("data") / "screen_training.yaml"
# A risk reading from the model alone needs this probability. On 150 risk statements held out
# from training (tests/data/words/screen_heldout.yaml) rules alone caught 80 and rules plus
# model at 0.6 caught 144, with 13 false alarms in 150 harmless look-alikes; on 337 ordinary
# descriptions readings of risk rose from 8 (rules) to 48. In five-fold cross-validation on
# the training texts, 0.6 caught 94 % with 12 % false alarms, 0.7 89 % with 8 %: a missed
# crisis costs far more than a detour to professional help.
THRESHOLD = 0.6
CACHE_FORMAT = 1
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass(frozen=True)
class LearnedHit:
    probability: float
    evidence: str  # the sentence the model found most like a statement of risk


def enabled() -> bool:
    return os.environ.get("DISCERN_SCREEN_MODEL", "").strip().lower() not in ("off", "0", "false", "no")


class _Model:
    """The fitted screen: two TF-IDF vectorisers (words, characters) and the logistic
    regression's weights, kept as plain numbers so that they can be cached as JSON."""

    def __init__(self, vectorisers: list[Any], coef: Any, intercept: float) -> None:
        self.vectorisers = vectorisers
        self.coef = coef
        self.intercept = intercept

    def risk(self, texts: list[str]) -> Any:
        """The probability of a statement of risk, for each text."""
        import numpy as np
        from scipy.sparse import hstack  # type: ignore[import-untyped]  # no stubs

        features = hstack([v.transform(texts) for v in self.vectorisers]).tocsr()
        return 1.0 / (1.0 + np.exp(-(features @ self.coef + self.intercept)))


def _vectorisers(vocabularies: list[dict[str, int]] | None = None) -> list[Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]  # no stubs

    settings: list[dict[str, Any]] = [{"ngram_range": (1, 2)}, {"analyzer": "char_wb", "ngram_range": (3, 5)}]
    return [TfidfVectorizer(sublinear_tf=True, vocabulary=vocabularies[i] if vocabularies else None, **kw)
            for i, kw in enumerate(settings)]


def _fit(text: str) -> _Model:
    import numpy as np
    import yaml
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # no stubs

    data = yaml.safe_load(text)
    risk, harmless = list(data["risk"]), list(data["harmless"])
    vectorisers = _vectorisers()
    features = hstack([v.fit_transform(risk + harmless) for v in vectorisers]).tocsr()
    fitted = LogisticRegression(C=3.0, max_iter=3000, class_weight="balanced")
    fitted.fit(features, [1] * len(risk) + [0] * len(harmless))
    return _Model(vectorisers, np.asarray(fitted.coef_[0], dtype=float), float(fitted.intercept_[0]))


def _cache_key(text: str) -> str:
    import sklearn  # type: ignore[import-untyped]  # no stubs

    return hashlib.sha256(f"{CACHE_FORMAT}|{sklearn.__version__}|{text}".encode()).hexdigest()


def _from_cache(path: Path, key: str) -> _Model | None:
    """The model kept in the cache for this training text, or None (missing, stale, unreadable)."""
    import numpy as np

    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("key") != key:
            return None
        vectorisers = _vectorisers([dict(v["vocabulary"]) for v in stored["vectorisers"]])
        for vectoriser, kept in zip(vectorisers, stored["vectorisers"]):
            vectoriser.idf_ = np.asarray(kept["idf"], dtype=float)
        return _Model(vectorisers, np.asarray(stored["coef"], dtype=float), float(stored["intercept"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


@functools.lru_cache(maxsize=1)
def _model() -> _Model:
    """Fitting takes seconds, so the fitted numbers are cached as plain JSON (never code),
    keyed by the training text and the scikit-learn version; a stale cache is refitted."""
    from .loadcache import cache_file, write_json

    text = TRAINING_FILE.read_text(encoding="utf-8")
    key = _cache_key(text)
    path = cache_file("screen-model.json")
    if path is not None:
        found = _from_cache(path, key)
        if found is not None:
            return found
    model = _fit(text)
    if path is not None:
        write_json(path, {"key": key, "intercept": model.intercept, "coef": model.coef.tolist(),
                          "vectorisers": [{"vocabulary": {t: int(i) for t, i in v.vocabulary_.items()},
                                           "idf": v.idf_.tolist()} for v in model.vectorisers]})
    return model


def learned_hit(text: str) -> LearnedHit | None:
    """A risk reading for ``text`` when the model is sure enough, else None. The text as a
    whole and each sentence are scored; the evidence is the most risk-like sentence."""
    if not enabled() or not text.strip():
        return None
    sentences = [s.strip() for s in _SENTENCES.split(text) if s.strip()] or [text.strip()]
    scores = _model().risk([text, *sentences])
    if max(scores) < THRESHOLD:
        return None
    most_like = max(range(len(sentences)), key=lambda i: scores[i + 1])
    return LearnedHit(float(max(scores)), sentences[most_like])
