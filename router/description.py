"""The person's own words: a safety screen first, then features read from the words, then
the tools whose situations the words resemble. Each reading is shown with its evidence.

A given value always wins over a value read from the words, except that the safety screen
fires whatever the context says: a missed crisis is the worst error Discern can make.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .decision import Inferred
from .errors import ContextError
from .features import Value
from .policy import Policy
from .scoring import Contribution

if TYPE_CHECKING:
    from .matching import TextMatcher

DESCRIPTION = "description"
# How many tools a description can speak for, and how its similarity becomes a weight:
# a strong match (similarity >= FULL_SIMILARITY) earns the policy's whole text weight.
MATCHED_TOOLS = 3
FULL_SIMILARITY = 0.4


@dataclass
class DescriptionReading:
    """What the words added to a context."""

    context: dict[str, Value]
    inferred: list[Inferred] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    contributions: dict[str, list[Contribution]] = field(default_factory=dict)


class MatcherCache:
    """One TF-IDF matcher per policy, built on first use (scikit-learn is imported then,
    never for contexts without a description); safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matcher: TextMatcher | None = None

    def get(self, policy: Policy) -> TextMatcher:
        with self._lock:
            if self._matcher is None:
                from .matching import TextMatcher

                documents = {tool_id: [tool.spec.summary, *tool.spec.examples]
                             for tool_id, tool in policy.tools.items()}
                from .encoders import DENSE_WEIGHT, available_encoder

                encoder = available_encoder()
                self._matcher = TextMatcher.fit(documents, encoder=encoder,
                                                dense_weight=DENSE_WEIGHT if encoder else 0.0)
            return self._matcher


def read_description(policy: Policy, checked: Mapping[str, Value], given: Mapping[str, object],
                     matcher: Callable[[], TextMatcher]) -> DescriptionReading:
    """The context with what the description says added (``checked`` is the typed context
    given; ``given`` the raw one, to tell a given false from an absent value)."""
    from .screen import quoted, screen_text
    from .words import check_description, is_probably_english, read_features

    context = dict(checked)
    reading = DescriptionReading(context)
    raw = checked.get(DESCRIPTION)
    if not isinstance(raw, str):
        return reading
    try:
        text = check_description(raw)
    except ContextError as error:
        if "empty" in error.message:
            context.pop(DESCRIPTION, None)
            reading.notes.append("the description is empty, so only the other features were used")
            return reading
        raise
    context[DESCRIPTION] = text
    features = policy.features

    hits = screen_text(text)
    pattern_ids = ", ".join(h.pattern_id for h in hits)
    evidence = quoted(hits)
    if not hits and "safety_risk" in features:
        # the learned screen adds recall where no rule has the phrasing yet; it never clears
        from .screen_model import learned_hit

        learned = learned_hit(text)
        if learned is not None:
            pattern_ids, evidence = f"learned-screen ({learned.probability:.2f})", learned.evidence
    if pattern_ids and "safety_risk" in features:
        if checked.get("safety_risk") is False:
            reading.notes.append(f"your words suggest a risk of harm (\"{evidence}\") although the context "
                                 "says there is none: safety first")
        context["safety_risk"] = True
        reading.inferred.append(Inferred("safety_risk", True, evidence, "screen", pattern_ids))

    if not is_probably_english(text):
        reading.notes.append("the description does not read as English; the safety screen and the reading of "
                             "features know English only, so the choice rests on the other features")
    else:
        for found in read_features(text):
            if found.feature not in features or found.feature == "safety_risk":
                continue
            try:
                value = features[found.feature].check(found.value)
            except ContextError:
                continue
            used = found.feature not in checked
            if used:
                context[found.feature] = value
            reading.inferred.append(Inferred(found.feature, features[found.feature].show(value), found.evidence,
                                             "words", found.pattern_id, used))

    weight = policy.text_weight
    if weight > 0:
        matches = matcher().match(text)
        for tool_id, similarity in list(matches.items())[:MATCHED_TOOLS]:
            if tool_id not in policy.tools:
                continue
            amount = round(weight * min(1.0, similarity / FULL_SIMILARITY), 3)
            reading.contributions[tool_id] = [Contribution(
                "text", "description-match", amount,
                f"your description resembles situations this tool fits (similarity {similarity:.2f})",
                when="description")]
    return reading
