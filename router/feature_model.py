"""A learned reading of the goal and the stakes beside the rules: where no rule reads one of
them from a description, a TF-IDF logistic regression trained on the labelled descriptions
that ship with the package gives a value, with the words that weighed most as its evidence.
A rule's reading always comes first, and a value given in the context wins over both.

Why: what someone needs and how much rides on it are often not said in so many words ("our
band needs a new name before the gig"), and a rule for every way of not saying it is out of
reach; on descriptions never used to write the rules, the rules alone read the goal right
63 % of the time and the stakes 52 %, and with this reading where they read nothing, 79 % and
59 % (tests/data/words/described_heldout.yaml).

Fitted on first use and then read from the cache; off with ``DISCERN_FEATURE_MODEL=off``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .textmodel import TextModel, cached, fit

TRAINING_FILE = Path(__file__).with_name("data") / "feature_training.yaml"
FEATURES = ("goal", "stakes")
# Below this probability the reading is little better than a guess among five values and is
# not offered: in five-fold cross-validation over the training descriptions, 0.4 rather than
# 0.35 cut wrong readings of the stakes from 34 % to 31 % for one point fewer right ones. It is a floor, not a test of relevance: text with little of a situation in it
# can still read a value ("what's the weather tomorrow" reads low stakes, from "tomorrow").
FLOOR = 0.4


def enabled() -> bool:
    return os.environ.get("DISCERN_FEATURE_MODEL", "").strip().lower() not in ("off", "0", "false", "no")


def _fit(text: str, feature: str) -> TextModel:
    import yaml

    items = yaml.safe_load(text)["items"]
    labelled = [(i["text"], str(i[feature])) for i in items if i.get(feature) is not None]
    return fit([t for t, _ in labelled], [v for _, v in labelled], c=5.0)


@functools.lru_cache(maxsize=len(FEATURES))
def _model(feature: str) -> TextModel:
    text = TRAINING_FILE.read_text(encoding="utf-8")
    return cached(f"feature-model-{feature}.json", text, lambda: _fit(text, feature))


def learned_value(text: str, feature: str) -> tuple[str, float, str] | None:
    """(value, probability, evidence) for ``feature`` read from ``text``, or None when the
    model is off, the feature is not one it reads, or no value is likely enough."""
    if not enabled() or feature not in FEATURES or not text.strip():
        return None
    value, probability, words = _model(feature).read(text)
    if probability < FLOOR or not words:
        return None
    return value, probability, ", ".join(words)
