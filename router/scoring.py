"""Scores every tool in play for a checked context, with the bounds that the unknown
features leave open.

Every distinct condition is evaluated once per context (``evaluate_conditions``); a tool's
score is then a sum over its clauses' truths. Which clauses held is kept implicitly (the
truths) and listed only when an explanation asks for it, so routing stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

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


Reason = Clause | Contribution


@dataclass(slots=True)
class ToolScore:
    """One tool's standing for one context."""

    tool: CompiledTool
    truths: Sequence[Truth]
    id: str = ""
    score: float = 0.0
    gain_pending: float = 0.0  # capabilities whose conditions are unknown
    loss_pending: float = 0.0  # penalties whose conditions are unknown
    excluded_by: Reason | None = None
    extra: list[Contribution] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return self.score - self.loss_pending

    @property
    def best(self) -> float:
        return self.score + self.gain_pending

    @property
    def excluded(self) -> bool:
        return self.excluded_by is not None

    @property
    def held(self) -> list[Reason]:
        """What holds for this tool: exclusions, capabilities and penalties, then the
        contributions from outside its spec (rules, words)."""
        truths = self.truths
        reasons: list[Reason] = [c for c in self.tool.exclusions if truths[c.slot]]
        reasons += [c for c in self.tool.scored if truths[c.slot]]
        reasons += self.extra
        return reasons

    @property
    def pending(self) -> list[Clause]:
        """Scored clauses whose conditions are unknown for this context."""
        truths = self.truths
        return [c for c in self.tool.scored if truths[c.slot] is None]

    @property
    def maybe_excluded_by(self) -> list[Clause]:
        truths = self.truths
        return [c for c in self.tool.exclusions if truths[c.slot] is None]


def evaluate_conditions(policy: Policy, context: Mapping[str, Value]) -> list[Truth]:
    """The truth of every distinct condition of the policy, each evaluated once."""
    return [test(context) for test in policy.tests]


def score_tool(tool: CompiledTool, truths: Sequence[Truth], extra: Sequence[Contribution] = ()) -> ToolScore:
    """One tool's score from the truths of the policy's conditions (by slot)."""
    result = ToolScore(tool, truths, tool.id)
    # Exclusions first: a contraindication wins however high the capabilities score.
    for clause in tool.exclusions:
        if truths[clause.slot]:
            result.excluded_by = clause
            break
    score = gain = loss = 0.0
    for slot, weight in tool.capability_terms:
        truth = truths[slot]
        if truth:
            score += weight
        elif truth is None:
            gain += weight
    for slot, weight in tool.penalty_terms:
        truth = truths[slot]
        if truth:
            score -= weight
        elif truth is None:
            loss += weight
    if extra:
        result.extra.extend(extra)
        score += sum(c.weight for c in extra)
    result.score = score
    result.gain_pending = gain
    result.loss_pending = loss
    return result


def score_tools(policy: Policy, truths: Sequence[Truth],
                extra: Mapping[str, Sequence[Contribution]] | None = None) -> list[ToolScore]:
    """Every tool in play, in catalog order."""
    if not extra:
        return [score_tool(tool, truths) for tool in policy.tools.values()]
    return [score_tool(tool, truths, extra.get(tool_id, ())) for tool_id, tool in policy.tools.items()]


def evaluate_rules(policy: Policy, truths: Sequence[Truth]) -> list[tuple[GuardRule, Truth]]:
    return [(rule, truths[rule.slot]) for rule in policy.rules]
