"""A learned screen beside the rules: a TF-IDF logistic regression over the labelled risk and
harmless statements that ship with the package, which adds recall where a phrasing has no
rule yet. It only ever adds a risk reading: it never clears one the rules found.

Trained on first use (scikit-learn is imported then, only for a description); off with
``DISCERN_SCREEN_MODEL=off``.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRAINING_FILE = Path(__file__).with_name("data") / "screen_training.yaml"
# A risk reading from the model alone needs this probability. On 60 risk statements written
# without sight of the rules or the training texts, the rules alone caught 29 and rules plus
# model at 0.6 caught 39, while 200 ordinary descriptions it had not seen went from 8 to 19
# readings of risk: a missed crisis costs far more than one confirming question, but below
# 0.6 every tenth ordinary worry would be sent to a crisis line.
THRESHOLD = 0.6
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass(frozen=True)
class LearnedHit:
    probability: float
    evidence: str  # the sentence the model found most like a statement of risk


def enabled() -> bool:
    return os.environ.get("DISCERN_SCREEN_MODEL", "").strip().lower() not in ("off", "0", "false", "no")


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    import yaml
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]  # no stubs
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # no stubs
    from sklearn.pipeline import make_pipeline, make_union  # type: ignore[import-untyped]  # no stubs

    data = yaml.safe_load(TRAINING_FILE.read_text(encoding="utf-8"))
    risk, harmless = list(data["risk"]), list(data["harmless"])
    model = make_pipeline(
        make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        LogisticRegression(C=3.0, max_iter=3000, class_weight="balanced"),
    )
    model.fit(risk + harmless, [1] * len(risk) + [0] * len(harmless))
    return model


def learned_hit(text: str) -> LearnedHit | None:
    """A risk reading for ``text`` when the model is sure enough, else None. The text as a
    whole and each sentence are scored; the evidence is the most risk-like sentence."""
    if not enabled() or not text.strip():
        return None
    sentences = [s.strip() for s in _SENTENCES.split(text) if s.strip()] or [text.strip()]
    scores = _model().predict_proba([text, *sentences])[:, 1]
    if max(scores) < THRESHOLD:
        return None
    most_like = max(range(len(sentences)), key=lambda i: scores[i + 1])
    return LearnedHit(float(max(scores)), sentences[most_like])
