"""The decision: which tool, how sure, what could change it, and why, for a person
(``explain()``) and for a program (``to_dict()``, the JSON that ``route --json`` prints)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .conditions import Truth
from .features import Value
from .policy import Clause, GuardRule, Policy
from .scoring import Contribution, Reason, ToolScore

DECISION_FORMAT_VERSION = 1

ChosenBy = Literal["require", "prefer", "score", "fallback", "below-threshold", "none"]


@dataclass(frozen=True)
class Inferred:
    """A feature value read from the person's words, with the words that raised it."""

    feature: str
    value: Value
    evidence: str
    source: Literal["screen", "words"]
    pattern: str = ""
    used: bool = True  # False when a given value won over it

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "value": self.value, "evidence": self.evidence,
                "source": self.source, "pattern": self.pattern, "used": self.used}


@dataclass
class Decision:
    """What the router recommends for one context, and everything needed to explain it."""

    policy: Policy
    context: dict[str, Value]  # as shown to people: level names, not indexes
    scores: list[ToolScore]  # ranking order, best first
    tool: str | None
    chosen_by: ChosenBy
    deciding_rule: str | None
    confident: bool
    runner_up: str | None
    unknowns: list[str]
    rules_fired: list[str]
    notes: list[str] = field(default_factory=list)
    inferred: list[Inferred] = field(default_factory=list)
    decision_id: str | None = None

    @property
    def robust(self) -> bool:
        return not self.unknowns

    @property
    def ranking(self) -> list[dict[str, Any]]:
        return [_ranked(s) for s in self.scores]

    @property
    def fallback(self) -> str | None:
        return self.policy.fallback

    def score_of(self, tool_id: str | None) -> ToolScore | None:
        for s in self.scores:
            if s.id == tool_id:
                return s
        return None

    @property
    def margin(self) -> float | None:
        chosen, runner = self.score_of(self.tool), self.score_of(self.runner_up)
        if chosen is None or runner is None:
            return None
        return round(chosen.score - runner.score, 6)

    def reason(self) -> str:
        """One sentence: why this tool."""
        chosen = self.score_of(self.tool)
        if self.tool is None:
            return "every tool in play is ruled out for this context"
        if self.chosen_by in ("require", "prefer"):
            rule = next(r for r in self.policy.rules if r.id == self.deciding_rule)
            verb = "requires" if self.chosen_by == "require" else "prefers"
            return f"guardrail `{rule.id}` {verb} it: {rule.spec.reason}"
        assert chosen is not None
        if self.chosen_by == "score":
            return f"highest score ({chosen.score:g}) among the tools allowed"
        best = self.scores[1] if len(self.scores) > 1 else None
        if self.chosen_by == "fallback":
            top = max((s for s in self.scores if not s.excluded and s.id != self.tool),
                      key=lambda s: s.score, default=best)
            top_text = f" (best was {top.id} at {top.score:g})" if top else ""
            return (f"no tool reached the minimum score of {self.policy.min_score:g}{top_text}, "
                    "so the policy's fallback is offered")
        return (f"best score ({chosen.score:g}) though below the minimum of "
                f"{self.policy.min_score:g}; the fallback is not allowed here")

    def why_not_runner_up(self) -> list[str]:
        """The differences that put the chosen tool ahead of the runner-up."""
        chosen, runner = self.score_of(self.tool), self.score_of(self.runner_up)
        if chosen is None or runner is None:
            return []
        lines: list[str] = []
        if self.chosen_by in ("require", "prefer"):
            lines.append(f"a guardrail decided, whatever the scores ({runner.id} scored {runner.score:g})")
            return lines
        lines.append(f"{chosen.id} {chosen.score:g} against {runner.id} {runner.score:g}")
        own = {(r.when, r.weight) for r in runner.held}
        for reason in chosen.held:
            if reason.weight > 0 and (reason.when, reason.weight) not in own:
                lines.append(f"{chosen.id}: {_num(reason.weight)} {reason.why}")
        for reason in runner.held:
            if reason.weight < 0:
                lines.append(f"{runner.id}: {_num(reason.weight)} {reason.why}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready decision (the object ``discern route --json`` prints)."""
        return {
            "version": DECISION_FORMAT_VERSION,
            "tool": self.tool,
            "confident": self.confident,
            "robust": self.robust,
            "chosen_by": self.chosen_by,
            "reason": self.reason(),
            "runner_up": self.runner_up,
            "margin": self.margin,
            "fallback": self.policy.fallback,
            "unknowns": list(self.unknowns),
            "rules_fired": list(self.rules_fired),
            "notes": list(self.notes),
            "why_not_runner_up": self.why_not_runner_up(),
            "how_to": list(chosen.tool.spec.how_to) if (chosen := self.score_of(self.tool)) else [],
            "ranking": self.ranking,
            "inferred": [i.to_dict() for i in self.inferred],
            "context": dict(self.context),
            "policy": {"name": self.policy.name, "version": self.policy.version, "hash": self.policy.hash},
            "decision_id": self.decision_id,
        }

    def explain(self) -> str:
        """The decision in plain text for a person."""
        return explain_dict(self.to_dict())


def _num(value: float) -> str:
    return f"{value:+g}" if value else "0"


def _ranked(s: ToolScore) -> dict[str, Any]:
    truths = s.truths
    tool = s.tool
    contributions = [c.describe() for c in tool.clauses if truths[c.slot]]
    if s.extra:
        contributions += [e.describe() for e in s.extra]
    by = s.excluded_by
    return {
        "tool": s.id,
        "name": tool.spec.name,
        "score": s.score,
        "bounds": [s.score - s.loss_pending, s.score + s.gain_pending],
        "excluded": by is not None,
        "excluded_by": None if by is None else {"id": by.id, "kind": by.kind, "why": by.why, "when": by.when},
        "may_be_excluded_by": [c.id for c in tool.exclusions if truths[c.slot] is None],
        "contributions": contributions,
        "pending": [c.id for c in tool.scored if truths[c.slot] is None],
    }


def explain_dict(d: Mapping[str, Any]) -> str:
    """Plain-text explanation from a decision's dict, so that a recorded decision is
    explained exactly as it was when made."""
    lines: list[str] = []
    tool = d.get("tool")
    if tool is None:
        lines.append("No tool can be recommended: every tool in play is ruled out.")
    else:
        sureness = "confident" if d.get("confident") else "not confident"
        settled = "robust" if d.get("robust") else "could change"
        lines.append(f"Recommended: {tool} ({sureness}, {settled})")
        lines.append(f"Why: {d.get('reason', '')}")
    for note in d.get("notes", []):
        lines.append(f"Note: {note}")
    ranking = d.get("ranking", [])
    chosen = next((r for r in ranking if r["tool"] == tool), None)
    if chosen is not None:
        for c in chosen["contributions"]:
            if c["kind"] == "limitation" and c.get("severity") == "exclude":
                continue
            lines.append(f"  {_num(c['weight']):>5}  {c['why']}  [{c['kind']}: {c.get('when') or c['id']}]")
    if d.get("runner_up"):
        lines.append(f"Runner-up: {d['runner_up']}")
        for line in d.get("why_not_runner_up", [])[1:]:
            lines.append(f"  {line}")
    if not d.get("confident") and tool is not None and d.get("fallback"):
        lines.append(f"Fallback: {d['fallback']}")
    if d.get("rules_fired"):
        lines.append("Guardrails fired: " + ", ".join(d["rules_fired"]))
    excluded = [r for r in ranking if r["excluded"]]
    if excluded:
        lines.append("Ruled out:")
        for r in excluded:
            by = r["excluded_by"] or {}
            lines.append(f"  {r['tool']}: {by.get('why', '')} [{by.get('id', '')}]")
    if d.get("unknowns"):
        lines.append("Could change the choice: " + ", ".join(d["unknowns"]))
    inferred = [i for i in d.get("inferred", []) if i.get("used", True)]
    if inferred:
        lines.append("Read from your words: " + "; ".join(
            f"{i['feature']} = {_show(i['value'])} (\"{i['evidence']}\")" for i in inferred))
    policy = d.get("policy", {})
    lines.append(f"Policy: {policy.get('name')} {policy.get('version')} ({str(policy.get('hash', ''))[:19]})")
    if d.get("decision_id"):
        lines.append(f"Decision id: {d['decision_id']}")
    return "\n".join(lines)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# --- deciding ---------------------------------------------------------------------------------

def _precedence(rule: GuardRule) -> tuple[bool, int, int]:
    # A locked rule that fires decides before any unlocked one, whatever the priorities:
    # a policy extending another cannot outrank its safety rule.
    return (not rule.spec.locked, -rule.spec.priority, rule.order)


def decide(policy: Policy, context: Mapping[str, Value], scores: Sequence[ToolScore],
           rule_states: Sequence[tuple[GuardRule, Truth]], inferred: Sequence[Inferred] = ()) -> Decision:
    """Apply guardrails to the scores and pick a tool, in the order of force: exclusions
    and forbids remove; a firing require picks; a firing prefer raises; scores decide the
    rest; below the minimum score the fallback is offered."""
    by_id = {s.id: s for s in scores}
    notes: list[str] = []
    fired = sorted((r for r, t in rule_states if t), key=_precedence)
    protected = {r.spec.targets[0] for r in fired if r.spec.locked and r.spec.action != "forbid"}

    for rule in fired:
        if rule.spec.action != "forbid":
            continue
        for target in rule.spec.targets:
            s = by_id.get(target)
            if s is None or target in protected:
                continue
            s.extra.append(Contribution("rule", rule.id, 0.0, rule.spec.reason, when=rule.spec.when))
            if s.excluded_by is None:
                s.excluded_by = s.extra[-1]
    for target in protected:
        s = by_id[target]
        if s.excluded_by is not None:
            notes.append(f"{target} stays allowed: a locked guardrail requires it")
            s.excluded_by = None

    rules_fired = [r.id for r in fired if r.spec.action == "forbid"]
    tool: str | None = None
    chosen_by: ChosenBy = "none"
    deciding: GuardRule | None = None
    for action in ("require", "prefer"):
        for rule in fired:
            if rule.spec.action != action:
                continue
            target = rule.spec.targets[0]
            s = by_id[target]
            if s.excluded_by is not None:
                notes.append(f"guardrail `{rule.id}` would {action} {target}, but {target} is ruled out "
                             f"here (`{s.excluded_by.id}`: {s.excluded_by.why}), so it does not fire")
                continue
            rules_fired.append(rule.id)
            s.extra.append(Contribution("rule", rule.id, 0.0, rule.spec.reason, when=rule.spec.when))
            if deciding is None:
                tool, deciding = target, rule
                chosen_by = "require" if action == "require" else "prefer"
        if deciding is not None:
            break

    allowed = [s for s in scores if s.excluded_by is None]
    by_score = sorted(allowed, key=lambda s: -s.score)  # stable: catalog order breaks ties
    if deciding is None and by_score:
        top = by_score[0]
        if top.score >= policy.min_score:
            tool, chosen_by = top.id, "score"
        elif policy.fallback is not None and by_id.get(policy.fallback) in allowed:
            tool, chosen_by = policy.fallback, "fallback"
        else:
            tool, chosen_by = top.id, "below-threshold"

    runner_up = next((s.id for s in by_score if s.id != tool), None)
    confident = False
    if chosen_by in ("require", "prefer"):
        confident = True
    elif chosen_by == "score":
        chosen_score = by_id[tool].score if tool else 0.0
        runner_score = by_id[runner_up].score if runner_up else float("-inf")
        confident = chosen_score - runner_score >= policy.min_margin

    ordered: list[ToolScore] = []
    if tool is not None:
        ordered.append(by_id[tool])
    ordered += [s for s in by_score if s.id != tool]
    ordered += sorted((s for s in scores if s.excluded_by is not None), key=lambda s: -s.score)

    unknowns = _unknowns(policy, context, by_id, rule_states, tool, chosen_by, deciding)
    return Decision(
        policy=policy, context=policy.features.shown(context), scores=ordered, tool=tool,
        chosen_by=chosen_by, deciding_rule=deciding.id if deciding else None, confident=confident,
        runner_up=runner_up, unknowns=unknowns, rules_fired=rules_fired, notes=notes, inferred=list(inferred),
    )


# Guardrails outrank scores, so a feature that could fire one is the most decisive.
_RULE_SWING = 1000.0
_EXCLUSION_SWING = 500.0


def _unknowns(policy: Policy, context: Mapping[str, Value], by_id: Mapping[str, ToolScore],
              rule_states: Sequence[tuple[GuardRule, Truth]], tool: str | None, chosen_by: ChosenBy,
              deciding: GuardRule | None) -> list[str]:
    """The missing features whose answers could change the recommendation, most decisive
    first. Sound by bounds: when the chosen tool's worst case beats every other tool's
    best case and no unknown guardrail could intervene, nothing is listed."""
    swing: dict[str, float] = {}

    def add(features: frozenset[str], amount: float) -> None:
        for name in features:
            if name not in context:
                swing[name] = swing.get(name, 0.0) + amount

    # Unknown clauses are summed per condition first: the catalog's tools share conditions,
    # so each condition's features are then visited once.
    slot_swing: dict[int, float] = {}

    def add_pending(score: ToolScore, gains: bool) -> None:
        truths = score.truths
        terms = score.tool.capability_terms if gains else score.tool.penalty_terms
        for slot, amount in terms:
            if truths[slot] is None:
                slot_swing[slot] = slot_swing.get(slot, 0.0) + amount

    for rule, truth in rule_states:
        if truth is not None:
            continue
        target = rule.spec.targets[0]
        action = rule.spec.action
        could_change = False
        if action == "forbid":
            could_change = tool in rule.spec.targets
        elif target != tool and by_id[target].excluded_by is None:
            if action == "require":
                could_change = chosen_by != "require" or (deciding is not None and _precedence(rule) < _precedence(deciding))
            else:
                could_change = chosen_by not in ("require",) and (
                    chosen_by != "prefer" or (deciding is not None and _precedence(rule) < _precedence(deciding)))
        if could_change:
            add(rule.features, _RULE_SWING + rule.spec.priority)

    chosen = by_id.get(tool) if tool else None
    if chosen is not None and not (deciding is not None and deciding.spec.locked):
        for clause in chosen.maybe_excluded_by:
            add(clause.features, _EXCLUSION_SWING)

    if chosen is None or chosen_by in ("require", "prefer"):
        return _ordered(swing)

    contenders = [s for s in by_id.values() if s.excluded_by is None and s.id != tool]
    worst = chosen.worst
    if chosen_by in ("score", "below-threshold"):
        threatened = False
        for other in contenders:
            if other.best > worst or (other.best == worst and (other.gain_pending or chosen.loss_pending)):
                threatened = True
                add_pending(other, gains=True)
        fallback = by_id.get(policy.fallback or "")
        # dropping below the minimum hands the choice to the fallback, if that is another tool
        drops_to_fallback = (chosen_by == "score" and worst < policy.min_score and fallback is not None
                             and fallback.id != tool and fallback.excluded_by is None)
        if threatened or drops_to_fallback:
            add_pending(chosen, gains=False)
        _spread(policy, context, slot_swing, swing)
    else:
        # the fallback stands until another tool can reach the minimum score (the fallback
        # reaching it itself changes nothing: it would then be chosen by score)
        for other in contenders:
            if other.best >= policy.min_score:
                add_pending(other, gains=True)
        _spread(policy, context, slot_swing, swing)
    return _ordered(swing)


def _spread(policy: Policy, context: Mapping[str, Value], slot_swing: Mapping[int, float],
            swing: dict[str, float]) -> None:
    features = policy.slot_features
    for slot, amount in slot_swing.items():
        for name in features[slot]:
            if name not in context:
                swing[name] = swing.get(name, 0.0) + amount


def _ordered(swing: Mapping[str, float]) -> list[str]:
    return [name for name, _ in sorted(swing.items(), key=lambda item: (-item[1], item[0]))]


__all__ = ["Decision", "Inferred", "decide", "explain_dict", "Clause", "Reason"]
