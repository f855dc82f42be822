"""A loaded policy, resolved and compiled: what the router runs. Built by ``loader``;
immutable, so one Router can be shared between threads."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .conditions import Test
from .errors import Location, Problem
from .features import FeatureSet
from .spec import AuditSettings, Rule, ToolSpec
from .yamlsource import SourceDoc


@dataclass(frozen=True)
class Clause:
    """A capability or limitation of one tool, compiled."""

    tool: str
    kind: Literal["capability", "limitation"]
    id: str
    when: str
    severity: Literal["exclude", "penalty"] | None
    weight: float  # signed: + for a capability, - for a penalty, 0 for an exclusion
    why: str
    sources: tuple[str, ...]
    test: Test
    features: frozenset[str]
    doc: SourceDoc = field(repr=False, compare=False)
    path: tuple[str | int, ...] = ()
    slot: int = -1  # index of this condition's test in Policy.tests (conditions are shared)

    @property
    def location(self) -> Location:
        """Where the clause's condition is written (worked out only when asked)."""
        return self.doc.locate(self.path)

    @property
    def is_exclusion(self) -> bool:
        return self.severity == "exclude"

    @functools.cached_property
    def _described(self) -> dict[str, object]:
        return {"kind": self.kind, "id": self.id, "weight": self.weight, "why": self.why,
                "sources": list(self.sources), "when": self.when,
                **({"severity": self.severity} if self.severity else {})}

    def describe(self) -> dict[str, object]:
        """A fresh JSON-ready dict (callers may change it)."""
        described = dict(self._described)
        described["sources"] = list(self.sources)
        return described


@dataclass(frozen=True)
class CompiledTool:
    spec: ToolSpec
    scored: tuple[Clause, ...]  # capabilities and penalties
    exclusions: tuple[Clause, ...]
    file: str
    hash: str

    @property
    def id(self) -> str:
        return self.spec.id

    @functools.cached_property
    def clauses(self) -> tuple[Clause, ...]:
        return self.exclusions + self.scored

    @functools.cached_property
    def capability_terms(self) -> tuple[tuple[int, float], ...]:
        return tuple((c.slot, c.weight) for c in self.scored if c.weight > 0)

    @functools.cached_property
    def penalty_terms(self) -> tuple[tuple[int, float], ...]:
        """(slot, amount) of each penalty; the amount is positive."""
        return tuple((c.slot, -c.weight) for c in self.scored if c.weight < 0)


@dataclass(frozen=True)
class GuardRule:
    spec: Rule
    test: Test
    features: frozenset[str]
    doc: SourceDoc = field(repr=False, compare=False)
    path: tuple[str | int, ...]
    order: int
    slot: int = -1

    @property
    def location(self) -> Location:
        return self.doc.locate(self.path)

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    description: str | None
    features: FeatureSet
    tools: Mapping[str, CompiledTool]
    rules: tuple[GuardRule, ...]
    min_score: float
    min_margin: float
    text_weight: float
    fallback: str | None
    audit: AuditSettings
    hash: str
    path: str
    files: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = field(default_factory=tuple)
    # every distinct condition's test, evaluated once per context; clauses and rules
    # refer to theirs by slot
    tests: tuple[Test, ...] = ()
    slot_features: tuple[tuple[str, ...], ...] = ()  # the features each slot's condition reads

    @property
    def tool_hashes(self) -> dict[str, str]:
        return {tool_id: tool.hash for tool_id, tool in self.tools.items()}
