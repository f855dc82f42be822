"""The context vocabulary: feature names, kinds and levels, and checking a context
against them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from .errors import ContextError, Problem, closest

FeatureKind = Literal["category", "ordinal", "number", "integer", "boolean", "text"]
FEATURE_KINDS: tuple[FeatureKind, ...] = ("category", "ordinal", "number", "integer", "boolean", "text")

# A checked value as the condition code sees it: ordinals become their level's index
# so that `stakes >= high` is one integer comparison.
Value = bool | int | float | str

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
UNKNOWN_WORDS = {"", "unknown", "null", "none_given", "?", "dont-know", "don't know"}


@dataclass(frozen=True)
class Feature:
    """One context feature of a policy's schema."""

    name: str
    kind: FeatureKind
    levels: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    question: str | None = None
    help: str | None = None

    @property
    def is_ordered(self) -> bool:
        return self.kind in ("ordinal", "number", "integer")

    def level_index(self, level: str) -> int:
        return self.levels.index(level)

    def describe_domain(self) -> str:
        if self.levels:
            joiner = " < " if self.kind == "ordinal" else ", "
            return joiner.join(self.levels)
        if self.kind == "boolean":
            return "true or false"
        if self.kind in ("number", "integer"):
            low = "" if self.minimum is None else f"{self.minimum:g}"
            high = "" if self.maximum is None else f"{self.maximum:g}"
            kind = "a whole number" if self.kind == "integer" else "a number"
            if low and high:
                return f"{kind} from {low} to {high}"
            if low:
                return f"{kind} >= {low}"
            if high:
                return f"{kind} <= {high}"
            return kind
        return "free text"

    def check(self, raw: object) -> Value:
        """The typed value for ``raw`` (strings from a command line are parsed), or a
        ContextError saying what is wrong."""
        if self.kind == "boolean":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
                return raw.strip().lower() in _TRUE
            raise self._wrong(raw)
        if self.kind in ("number", "integer"):
            number = self._number(raw)
            if self.minimum is not None and number < self.minimum or (
                self.maximum is not None and number > self.maximum
            ):
                raise ContextError(
                    f"value `{_show(raw)}` for `{self.name}` is out of range",
                    hint=f"`{self.name}` takes {self.describe_domain()}",
                )
            return number
        if self.kind in ("category", "ordinal"):
            if isinstance(raw, str) and raw.strip() in self.levels:
                level = raw.strip()
                return self.levels.index(level) if self.kind == "ordinal" else level
            if isinstance(raw, str):
                near = closest(raw.strip(), self.levels)
                raise ContextError(
                    f"unknown level `{raw}` for feature `{self.name}`",
                    hint=near or f"`{self.name}` takes {self.describe_domain()}",
                )
            raise self._wrong(raw)
        if isinstance(raw, str):
            return raw
        raise self._wrong(raw)

    def _number(self, raw: object) -> float | int:
        if isinstance(raw, bool):
            raise self._wrong(raw)
        value: float | int
        if isinstance(raw, (int, float)):
            value = raw
        elif isinstance(raw, str):
            try:
                value = float(raw.strip()) if self.kind == "number" else int(raw.strip())
            except ValueError:
                if self.kind == "integer":
                    try:
                        as_float = float(raw.strip())
                    except ValueError:
                        raise self._wrong(raw) from None
                    if as_float.is_integer():
                        return self._number(as_float)
                raise self._wrong(raw) from None
        else:
            raise self._wrong(raw)
        if isinstance(value, float) and not math.isfinite(value):
            raise ContextError(f"value `{_show(raw)}` for `{self.name}` is not a finite number")
        if self.kind == "integer":
            if isinstance(value, float):
                if not value.is_integer():
                    raise self._wrong(raw)
                value = int(value)
            return value
        return float(value)

    def _wrong(self, raw: object) -> ContextError:
        return ContextError(
            f"value `{_show(raw)}` for `{self.name}` has the wrong type",
            hint=f"`{self.name}` takes {self.describe_domain()}",
        )

    def show(self, value: Value) -> Value:
        """The value as a person or a JSON reader sees it (level names, not indexes)."""
        if self.kind == "ordinal" and isinstance(value, int) and not isinstance(value, bool):
            return self.levels[value]
        return value


def _show(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    text = str(raw)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class FeatureSet:
    """The schema of a policy: its features by name, in declaration order."""

    by_name: Mapping[str, Feature] = field(default_factory=dict)

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def __getitem__(self, name: str) -> Feature:
        return self.by_name[name]

    def __iter__(self) -> Iterator[Feature]:
        return iter(self.by_name.values())

    def __len__(self) -> int:
        return len(self.by_name)

    def names(self) -> list[str]:
        return list(self.by_name)

    def check_context(self, context: Mapping[str, object]) -> dict[str, Value]:
        """Typed values for a context; ``None`` (or an unknown-word) means not given.
        Raises one ContextError naming every bad entry."""
        if not isinstance(context, Mapping):
            raise ContextError("a context must be a mapping of feature names to values")
        checked: dict[str, Value] = {}
        problems: list[Problem] = []
        for name, raw in context.items():
            if not isinstance(name, str) or name not in self.by_name:
                problems.append(Problem(
                    f"unknown feature `{name}`",
                    hint=closest(str(name), self.by_name) or "`discern policy show` lists the features",
                ))
                continue
            if raw is None or (isinstance(raw, str) and raw.strip().lower() in UNKNOWN_WORDS
                               and self.by_name[name].kind != "text"):
                continue
            try:
                checked[name] = self.by_name[name].check(raw)
            except ContextError as error:
                problems.extend(error.problems)
        if problems:
            raise ContextError(problems=problems)
        return checked

    def shown(self, checked: Mapping[str, Value]) -> dict[str, Value]:
        return {name: self.by_name[name].show(v) for name, v in checked.items()}


def merged(*sets: Iterable[Feature]) -> FeatureSet:
    by_name: dict[str, Feature] = {}
    for features in sets:
        for feature in features:
            by_name[feature.name] = feature
    return FeatureSet(by_name)
