"""Scores every tool in play for a checked context, with the bounds that the unknown
features leave open."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence, Union

from .conditions import Truth
from .features import Value
from .policy import Clause, CompiledTool, GuardRule, Policy


@dataclass(frozen=True)
class Contribution:
    """Something that moved a tool's score or standing that is not one of its own
    clauses: a guardrail rule, a match with the person's words, a learned adjustment."""

    kind: Literal["rule", "text", "learned"]
    id: str
    weight: float
    why: str
    sources: tuple[str, ...] = ()
    when: str = ""
    evidence: str | None = None

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "id": self.id, "weight": self.weight,
                                  "why": self.why, "sources": list(self.sources), "when": self.when}
        if self.evidence is not None:
            out["evidence"] = self.evidence
        return out


Reason = Union[Clause, Contribution]


@dataclass
class ToolScore:
    """One tool's standing for one context."""

    tool: CompiledTool
    score: float = 0.0
    gain_pending: float = 0.0  # capabilities whose conditions are unknown
    loss_pending: float = 0.0  # penalties whose conditions are unknown
    held: list[Reason] = field(default_factory=list)
    pending: list[Clause] = field(default_factory=list)
    excluded_by: Reason | None = None
    maybe_excluded_by: list[Clause] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.tool.spec.id

    @property
    def worst(self) -> float:
        return self.score - self.loss_pending

    @property
    def best(self) -> float:
        return self.score + self.gain_pending

    @property
    def excluded(self) -> bool:
        return self.excluded_by is not None


def score_tool(tool: CompiledTool, context: Mapping[str, Value],
               extra: Sequence[Contribution] = ()) -> ToolScore:
    result = ToolScore(tool)
    # Exclusions first: a contraindication wins however high the capabilities score.
    for clause in tool.exclusions:
        truth = clause.test(context)
        if truth:
            if result.excluded_by is None:
                result.excluded_by = clause
            result.held.append(clause)
        elif truth is None:
            result.maybe_excluded_by.append(clause)
    score = 0.0
    for clause in tool.scored:
        truth = clause.test(context)
        if truth:
            score += clause.weight
            result.held.append(clause)
        elif truth is None:
            result.pending.append(clause)
            if clause.weight > 0:
                result.gain_pending += clause.weight
            else:
                result.loss_pending -= clause.weight
    for contribution in extra:
        score += contribution.weight
        result.held.append(contribution)
    result.score = score
    return result


def score_tools(policy: Policy, context: Mapping[str, Value],
                extra: Mapping[str, Sequence[Contribution]] | None = None) -> list[ToolScore]:
    """Every tool in play, in catalog order."""
    extra = extra or {}
    return [score_tool(tool, context, extra.get(tool_id, ())) for tool_id, tool in policy.tools.items()]


def evaluate_rules(policy: Policy, context: Mapping[str, Value]) -> list[tuple[GuardRule, Truth]]:
    return [(rule, rule.test(context)) for rule in policy.rules]
