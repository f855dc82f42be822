"""A learned reading of the goal and the stakes beside the rules: a TF-IDF logistic regression
trained on the labelled descriptions that ship with the package gives a value, with the words
that weighed most as its evidence, where no rule reads one, and in place of a rule's reading
when it is confident (``CONFIDENT``). A value given in the context wins over both.

Why: what someone needs and how much rides on it are often not said in so many words ("our
band needs a new name before the gig"), and a rule for every way of not saying it is out of
reach; on descriptions never used to write the rules, the rules alone read the goal right
63 % of the time and the stakes 52 %, and with this reading 93 % and 67 %
(tests/data/words/described_heldout.yaml).

Fitted on first use and then read from the cache; off with ``DISCERN_FEATURE_MODEL=off``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .textmodel import TextModel, cached, fit_heads

TRAINING_FILE = Path(__file__).with_name("data") / "feature_training.yaml"
FEATURES = ("goal", "stakes")
# Below this probability the reading is little better than a guess among five values and is
# not offered: in five-fold cross-validation over the training descriptions, 0.4 rather than
# 0.35 cut wrong readings of the stakes from 34 % to 31 % for one point fewer right ones.
# It is a floor, not a test of relevance: text with little of a situation in it can still
# read a value ("what's the weather tomorrow" reads low stakes, from "tomorrow").
FLOOR = 0.4
# At or above this probability the learned reading overrules a rule's (rules read cue words,
# and a cue word can mislead: "we've narrowed the new hire down to two candidates" is a
# decision, though "new" and "hire" are not). With the inverse regularisation C, chosen by
# five-fold cross-validation over the training descriptions: C 5 and rules first, goal right
# 75 %, stakes 56 %; C 10 and a reading of 0.6 first, 80 % and 61 %.
CONFIDENT = 0.6
C = 10.0


def enabled() -> bool:
    return os.environ.get("DISCERN_FEATURE_MODEL", "").strip().lower() not in ("off", "0", "false", "no")


def _fit(text: str) -> dict[str, TextModel]:
    import yaml

    items = yaml.safe_load(text)["items"]
    heads: dict[str, list[str | None]] = {
        f: [None if i.get(f) is None else str(i[f]) for i in items] for f in FEATURES}
    return fit_heads([i["text"] for i in items], heads, c=C)


@functools.lru_cache(maxsize=1)
def _models() -> dict[str, TextModel]:
    """One model per feature, sharing their vectorisers: a description is split and weighed
    once for both."""
    text = TRAINING_FILE.read_text(encoding="utf-8")
    return cached("feature-model.json", text, lambda: _fit(text), settings=f"c={C}")


def _model(feature: str) -> TextModel:
    return _models()[feature]


def learned_value(text: str, feature: str) -> tuple[str, float, str] | None:
    """(value, probability, evidence) for ``feature`` read from ``text``, or None when the
    model is off, the feature is not one it reads, or no value is likely enough."""
    if not enabled() or feature not in FEATURES or not text.strip():
        return None
    value, probability, words = _model(feature).read(text)
    if probability < FLOOR or not words:
        return None
    return value, probability, ", ".join(words)
