"""A learned screen beside the rules: a TF-IDF logistic regression over the labelled risk and
harmless statements that ship with the package, which adds recall where a phrasing has no
rule yet. It only ever adds a risk reading: it never clears one the rules found.

Fitted on first use and then read from the cache (scikit-learn is imported only for a
description); off with ``DISCERN_SCREEN_MODEL=off``.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .textmodel import TextModel, cached, fit

TRAINING_FILE = Path(__file__).with_name("data") / "screen_training.yaml"
# A risk reading from the model alone needs this probability. On 150 risk statements held out
# from training (tests/data/words/screen_heldout.yaml) rules alone caught 120 and rules plus
# model at 0.6 caught 146, with 10 false alarms in 150 harmless look-alikes (rules alone 6);
# on 337 ordinary descriptions readings of risk rose from 11 (rules) to 61. At 0.75 (the
# lowest with at most 5 % false alarms in five-fold cross-validation on the training texts)
# the same sets gave 142, 7 and 37: recall is what matters most, so 0.6.
THRESHOLD = 0.6
C = 3.0  # the inverse regularisation of the logistic regression
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass(frozen=True)
class LearnedHit:
    probability: float
    evidence: str  # the sentence the model found most like a statement of risk


def enabled() -> bool:
    return os.environ.get("DISCERN_SCREEN_MODEL", "").strip().lower() not in ("off", "0", "false", "no")


def _fit(text: str) -> TextModel:
    import yaml

    data = yaml.safe_load(text)
    risk, harmless = list(data["risk"]), list(data["harmless"])
    return fit(risk + harmless, ["risk"] * len(risk) + ["harmless"] * len(harmless), c=C)


@functools.lru_cache(maxsize=1)
def _model() -> TextModel:
    text = TRAINING_FILE.read_text(encoding="utf-8")
    return cached("screen-model.json", text, lambda: {"risk": _fit(text)}, settings=f"c={C}")["risk"]


def learned_hit(text: str) -> LearnedHit | None:
    """A risk reading for ``text`` when the model is sure enough, else None. The text as a
    whole and each sentence are scored; the evidence is the most risk-like sentence."""
    if not enabled() or not text.strip():
        return None
    sentences = [s.strip() for s in _SENTENCES.split(text) if s.strip()] or [text.strip()]
    scores = _model().probability([text, *sentences], "risk")
    if max(scores) < THRESHOLD:
        return None
    most_like = max(range(len(sentences)), key=lambda i: scores[i + 1])
    return LearnedHit(float(max(scores)), sentences[most_like])
