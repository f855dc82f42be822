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
# from training (tests/data/words/screen_heldout.yaml) rules alone caught 121 and rules plus
# model at 0.6 (0.7 for one sentence of several, below) caught 146, with 7 false alarms in 150
# harmless look-alikes (rules alone 5); of 137 ordinary descriptions never trained on
# (described_heldout.yaml) 4 were read as risk, and all 13 that show a present risk. In
# leave-one-writer-out cross-validation over the training sets, 0.6 kept recall at 99.2 % (98.0 %
# for the worst writer) with 7.6 % false alarms; 0.65 and 0.7 cut false alarms to 6.6 % and
# 5.8 % but let the worst writer's recall fall to 97.7 % and 96.5 %: recall is what matters
# most, so 0.6.
THRESHOLD = 0.6
# A single sentence of a longer text is read on fewer words, and a few of them can weigh alone
# ("It's Monday and I've told them both I'll answer by Friday." scored 0.93), so it needs more:
# in the same cross-validation, 0.7 for a sentence kept recall where it was (99.2 %, the worst
# writer 98.0 %) and cut false alarms from 7.7 % to 6.9 % (in that run, with more training sets
# than the figures above), and ordinary descriptions by a writer it never saw read as risk from
# 12 % to 5 %; 0.8 began to cost recall.
SENTENCE_THRESHOLD = 0.7
C = 3.0  # the inverse regularisation of the logistic regression
SHORT = 4  # words: a shorter sentence is scored with its neighbour (see _units)
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


def _units(text: str) -> list[str]:
    """The sentences of ``text``, each scored on its own, but a fragment of fewer than
    ``SHORT`` words goes with the sentence before it (or the one after, at the start): alone,
    "He's 9." weighs only a few n-grams, which risk statements happen to share. In
    leave-one-writer-out cross-validation over the training sets this cut false alarms from
    8.0 % to 7.6 % at the same recall."""
    units: list[str] = []
    for sentence in (s.strip() for s in _SENTENCES.split(text)):
        if not sentence:
            continue
        if units and (len(sentence.split()) < SHORT or len(units[-1].split()) < SHORT):
            units[-1] = f"{units[-1]} {sentence}"
        else:
            units.append(sentence)
    return units or [text.strip()]


def learned_hit(text: str) -> LearnedHit | None:
    """A risk reading for ``text`` when the model is sure enough, else None. The text as a
    whole is read at ``THRESHOLD`` and each sentence at ``SENTENCE_THRESHOLD`` (so that a
    crisis told in one sentence among others is not diluted by them); the evidence is the most
    risk-like sentence."""
    if not enabled() or not text.strip():
        return None
    sentences = _units(text)
    scores = _model().probability([text, *sentences], "risk")
    whole, parts = float(scores[0]), [float(x) for x in scores[1:]]
    if len(parts) == 1:
        parts = []  # one sentence: the text as a whole is that sentence
    if whole < THRESHOLD and max(parts, default=0.0) < SENTENCE_THRESHOLD:
        return None
    most_like = max(range(len(sentences)), key=lambda i: scores[i + 1])
    return LearnedHit(max([whole, *parts]), sentences[most_like])
