"""The domain of a policy's contexts, reduced to finitely many "interesting values", and
ways to walk it: exhaustively when it is small, else by seeded sampling.

Every condition compares a feature with a level, a boolean or a number written in the
policy. Between two neighbouring numbers named in conditions, every comparison gives the
same answer, so one value per gap stands for the whole gap. The interesting values of a
feature are therefore:

- category and ordinal: every level, and unknown;
- boolean: true, false, and unknown;
- number and integer: every threshold named in a condition on it, one value between each
  two neighbouring thresholds, one below the lowest and one above the highest (kept inside
  the feature's ``min`` and ``max``), and unknown;
- text: unknown only (text feeds matching of words, which no condition reads).

Every context of the schema agrees, on the truth of every condition, with some
combination of interesting values; so a search over all combinations is exhaustive
(setting aside matching of the description's words).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from .conditions import Compare, Condition, Junction, Member, Not, parse
from .errors import ConditionError
from .features import Feature, FeatureSet, Value
from .policy import Policy

RawValue = str | bool | int | float | None
Context = dict[str, RawValue]
Checked = dict[str, Value]


def condition_texts(policy: Policy) -> list[str]:
    """The ``when`` text of every clause and rule of a policy, each once."""
    seen: dict[str, None] = {}
    for tool in policy.tools.values():
        for clause in tool.clauses:
            seen.setdefault(clause.when, None)
    for rule in policy.rules:
        seen.setdefault(rule.spec.when, None)
    return list(seen)


def _numbers_in(cond: Condition, out: dict[str, set[float]]) -> None:
    if isinstance(cond, Compare):
        if cond.value.is_number:
            out.setdefault(cond.feature, set()).add(float(cond.value.text))
    elif isinstance(cond, Member):
        for literal in cond.values:
            if literal.is_number:
                out.setdefault(cond.feature, set()).add(float(literal.text))
    elif isinstance(cond, Not):
        _numbers_in(cond.operand, out)
    elif isinstance(cond, Junction):
        for operand in cond.operands:
            _numbers_in(operand, out)


def thresholds(texts: Iterable[str]) -> dict[str, list[float]]:
    """The numbers each feature is compared with, sorted."""
    found: dict[str, set[float]] = {}
    for text in texts:
        try:
            _numbers_in(parse(text), found)
        except ConditionError:
            continue  # a loaded policy's conditions all parse; this is for partial input
    return {name: sorted(values) for name, values in found.items()}


def _inside(feature: Feature, value: float) -> bool:
    return (feature.minimum is None or value >= feature.minimum) and (
        feature.maximum is None or value <= feature.maximum)


def number_values(feature: Feature, cuts: Sequence[float]) -> list[float | int]:
    """One value for each region that the thresholds ``cuts`` cut the feature's range into."""
    points: set[float] = set(cuts)
    if feature.kind == "integer":
        for cut in cuts:
            points.update((math.floor(cut) - 1, math.floor(cut), math.ceil(cut), math.ceil(cut) + 1))
    else:
        ordered = sorted(cuts)
        points.update((a + b) / 2 for a, b in itertools.pairwise(ordered))
        if ordered:
            points.update((ordered[0] - 1, ordered[-1] + 1))
    for bound in (feature.minimum, feature.maximum):
        if bound is not None:
            points.add(bound)
    if not points:
        points.add(feature.minimum if feature.minimum is not None else 0.0)
    kept = sorted(p for p in points if _inside(feature, p))
    if feature.kind == "integer":
        return sorted({int(p) for p in kept if float(p).is_integer()})
    return kept


@dataclass(frozen=True)
class Domain:
    """The interesting values of each feature, as written in a context (``None``:
    unknown) and as checked for the condition code."""

    features: FeatureSet
    raw: Mapping[str, tuple[RawValue, ...]]
    checked: Mapping[str, tuple[Value | None, ...]]

    @property
    def names(self) -> list[str]:
        return list(self.raw)

    def size(self, names: Iterable[str] | None = None) -> int:
        """How many combinations the interesting values of ``names`` (default: all) make."""
        total = 1
        for name in (self.names if names is None else names):
            total *= len(self.raw[name])
        return total

    def combinations(self, names: Sequence[str]) -> Iterator[tuple[int, ...]]:
        """Every combination of value indexes for ``names``."""
        return itertools.product(*(range(len(self.raw[n])) for n in names))

    def random_indexes(self, names: Sequence[str], rng: random.Random) -> tuple[int, ...]:
        return tuple(rng.randrange(len(self.raw[n])) for n in names)

    def context(self, names: Sequence[str], indexes: Sequence[int]) -> Context:
        """A context as a person writes it (unknown features left out)."""
        out: Context = {}
        for name, index in zip(names, indexes):
            value = self.raw[name][index]
            if value is not None:
                out[name] = value
        return out

    def checked_context(self, names: Sequence[str], indexes: Sequence[int]) -> Checked:
        """The same context as the condition code reads it."""
        out: Checked = {}
        for name, index in zip(names, indexes):
            value = self.checked[name][index]
            if value is not None:
                out[name] = value
        return out

    def sample(self, count: int, seed: int, names: Sequence[str] | None = None) -> list[Context]:
        """``count`` contexts drawn uniformly from the interesting values, reproducibly."""
        rng = random.Random(seed)
        chosen = list(self.names if names is None else names)
        return [self.context(chosen, self.random_indexes(chosen, rng)) for _ in range(count)]


def domain_of(policy: Policy, *, known_only: bool = False,
              extra_conditions: Iterable[str] = ()) -> Domain:
    """The interesting values of every feature of ``policy`` (see the module's doc).
    ``known_only`` leaves out unknown; ``extra_conditions`` adds thresholds."""
    cuts = thresholds([*condition_texts(policy), *extra_conditions])
    raw: dict[str, tuple[RawValue, ...]] = {}
    checked: dict[str, tuple[Value | None, ...]] = {}
    for feature in policy.features:
        values: list[RawValue]
        if feature.kind in ("category", "ordinal"):
            values = list(feature.levels)
        elif feature.kind == "boolean":
            values = [True, False]
        elif feature.kind in ("number", "integer"):
            values = list(number_values(feature, cuts.get(feature.name, [])))
        else:
            values = []
        if not known_only or not values:
            values.append(None)
        raw[feature.name] = tuple(values)
        checked[feature.name] = tuple(None if v is None else feature.check(v) for v in values)
    return Domain(policy.features, raw, checked)


def sample_contexts(policies: Sequence[Policy], count: int, seed: int) -> list[Context]:
    """``count`` contexts drawn, reproducibly, from the interesting values of the union of
    the policies' schemas (thresholds from every policy's conditions; where two policies
    declare a feature differently, the last one's declaration is used)."""
    texts = [text for policy in policies for text in condition_texts(policy)]
    raw: dict[str, tuple[RawValue, ...]] = {}
    for policy in policies:
        raw.update(domain_of(policy, extra_conditions=texts).raw)
    names = list(raw)
    rng = random.Random(seed)
    out: list[Context] = []
    for _ in range(count):
        context: Context = {}
        for name in names:
            value = raw[name][rng.randrange(len(raw[name]))]
            if value is not None:
                context[name] = value
        out.append(context)
    return out


__all__ = ["Checked", "Context", "Domain", "RawValue", "condition_texts", "domain_of", "number_values", "sample_contexts",
           "thresholds"]
