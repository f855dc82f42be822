"""What a change to a policy changes: route the same contexts under two versions and
report every decision that differs, with both reasons and the clauses and rules whose
effect differs, and a table of moves from one tool to another.

The contexts come from a file (a list of contexts, or a test file's cases) or are drawn
with a fixed seed from the interesting values of both schemas (see ``domain``). A context
is routed under each policy with only the features that policy declares; a value a policy
does not accept (a level it does not have) is left unknown there, and counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .decision import Decision
from .domain import Context, sample_contexts
from .errors import ContextError, Problem, SpecError, closest
from .features import FeatureSet
from .policy import Policy
from .reachability import show_context
from .router import Router
from .scoring import ToolScore
from .yamlsource import SourceDoc, load_yaml

DIFF_FORMAT_VERSION = 1
MAX_CONTEXTS = 100_000


@dataclass
class ChangedDecision:
    """One context whose decision differs between the two policies."""

    index: int
    context: Context
    old: Decision
    new: Decision
    kinds: list[str]  # "tool" and/or "confident"
    differences: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "context": dict(self.context), "kinds": list(self.kinds),
                "old": _side(self.old), "new": _side(self.new), "differences": list(self.differences)}


def _side(decision: Decision) -> dict[str, Any]:
    return {"tool": decision.tool, "confident": decision.confident, "chosen_by": decision.chosen_by,
            "reason": decision.reason(), "rules_fired": list(decision.rules_fired)}


@dataclass
class PolicyDiff:
    """Every decision that changes between ``old`` and ``new`` over the contexts given."""

    old: Policy
    new: Policy
    source: str
    contexts: int
    changes: list[ChangedDecision] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def tool_changes(self) -> list[ChangedDecision]:
        return [c for c in self.changes if "tool" in c.kinds]

    def moves(self) -> list[tuple[str, str, int]]:
        """(from tool, to tool, how many), most first."""
        counted = Counter((str(c.old.tool), str(c.new.tool)) for c in self.tool_changes)
        return [(a, b, n) for (a, b), n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": DIFF_FORMAT_VERSION,
            "old": _policy(self.old), "new": _policy(self.new),
            "source": self.source, "contexts": self.contexts, "changed": len(self.changes),
            "tool_changed": len(self.tool_changes),
            "confidence_changed": sum(1 for c in self.changes if c.kinds == ["confident"]),
            "moves": [{"from": a, "to": b, "count": n} for a, b, n in self.moves()],
            "changes": [c.to_dict() for c in self.changes],
            "notes": list(self.notes),
        }

    def render(self, limit: int = 20) -> str:
        """The diff for a person: a summary, the table of moves, then each change."""
        lines = [(f"{self.old.name} {self.old.version} -> {self.new.name} {self.new.version}: "
                  f"{len(self.changes)} of {self.contexts} decisions change ({self.source})")]
        lines += [f"note: {n}" for n in self.notes]
        moves = self.moves()
        if moves:
            width_a = max(len("from"), *(len(a) for a, _, _ in moves))
            width_b = max(len("to"), *(len(b) for _, b, _ in moves))
            lines += ["", f"  {'from':<{width_a}}  {'to':<{width_b}}  count"]
            lines += [f"  {a:<{width_a}}  {b:<{width_b}}  {n:>5}" for a, b, n in moves]
        only = [c for c in self.changes if c.kinds == ["confident"]]
        if only:
            lines.append(f"  {len(only)} more keep their tool but change confidence")
        for change in self.changes[:limit]:
            lines += ["", f"context {change.index + 1}: {show_context(change.context)}"]
            for label, decision in (("old", change.old), ("new", change.new)):
                sure = "confident" if decision.confident else "not confident"
                lines.append(f"  {label}: {decision.tool} ({sure}) - {decision.reason()}")
            lines += [f"  - {d}" for d in change.differences]
        if len(self.changes) > limit:
            lines += ["", f"... and {len(self.changes) - limit} more (--json lists them all)"]
        return "\n".join(lines)


def _policy(policy: Policy) -> dict[str, str]:
    return {"name": policy.name, "version": policy.version, "hash": policy.hash, "path": policy.path}


# --- contexts ------------------------------------------------------------------------------------

def read_contexts(path: Path, policies: Sequence[Policy]) -> list[Context]:
    """Contexts from a YAML or JSON file: a list of contexts, or a test file (its cases'
    contexts). Every feature must belong to one of the policies; errors are located."""
    doc = load_yaml(path, display=str(path))
    data = doc.data
    base: tuple[Any, ...] = ()
    items: list[tuple[tuple[Any, ...], Any]]
    if isinstance(data, dict) and isinstance(data.get("cases"), list):
        items = [(("cases", i, "context"), c.get("context", {}) if isinstance(c, dict) else None)
                 for i, c in enumerate(data["cases"])]
    elif isinstance(data, dict) and isinstance(data.get("contexts"), list):
        items = [(("contexts", i), c) for i, c in enumerate(data["contexts"])]
    elif isinstance(data, list):
        items = [((i,), c) for i, c in enumerate(data)]
    else:
        raise SpecError("a contexts file must be a list of contexts (or a test file with `cases`)",
                        at=doc.locate(base))
    problems: list[Problem] = []
    contexts: list[Context] = []
    for where, item in items:
        if not isinstance(item, dict):
            problems.append(Problem("a context must be a mapping of feature names to values", doc.locate(where)))
            continue
        problems += _context_problems(doc, where, item, policies)
        contexts.append(dict(item))
    if len(contexts) > MAX_CONTEXTS:
        problems.append(Problem(f"more than {MAX_CONTEXTS} contexts", doc.locate(base)))
    if problems:
        raise SpecError(problems=problems)
    return contexts


def _context_problems(doc: SourceDoc, where: tuple[Any, ...], context: Mapping[str, Any],
                      policies: Sequence[Policy]) -> list[Problem]:
    problems: list[Problem] = []
    known = sorted({name for p in policies for name in p.features.names()})
    for key, value in context.items():
        owners = [p.features for p in policies if key in p.features]
        if not owners:
            problems.append(Problem(f"unknown feature `{key}`", doc.locate(where + (key,), key=True),
                                    closest(str(key), known)))
            continue
        errors: list[ContextError] = []
        for features in owners:
            try:
                features.check_context({key: value})
            except ContextError as error:
                errors.append(error)
        if len(errors) == len(owners):
            problems += [Problem(p.message, doc.locate(where + (key,)), p.hint) for p in errors[0].problems]
    return problems


def _restrict(context: Context, features: FeatureSet) -> tuple[Context, bool]:
    """The part of ``context`` a schema accepts, and whether anything was left out."""
    kept: Context = {}
    dropped = False
    for key, value in context.items():
        if key not in features:
            continue
        try:
            features.check_context({key: value})
        except ContextError:
            dropped = True
            continue
        kept[key] = value
    return kept, dropped


# --- comparing -----------------------------------------------------------------------------------

def diff_policies(old: Policy, new: Policy, contexts: Sequence[Context], *, source: str = "") -> PolicyDiff:
    """Route every context under both policies and collect the decisions that differ."""
    old_router, new_router = Router(old), Router(new)
    result = PolicyDiff(old, new, source or f"{len(contexts)} contexts", len(contexts))
    dropped = {"old": 0, "new": 0}
    for index, context in enumerate(contexts):
        old_context, old_dropped = _restrict(context, old.features)
        new_context, new_dropped = _restrict(context, new.features)
        dropped["old"] += old_dropped
        dropped["new"] += new_dropped
        before, after = old_router.route(old_context), new_router.route(new_context)
        kinds = [k for k, changed in (("tool", before.tool != after.tool),
                                     ("confident", before.confident != after.confident)) if changed]
        if kinds:
            result.changes.append(ChangedDecision(index, dict(context), before, after, kinds,
                                                  explain_difference(before, after)))
    for label, count in dropped.items():
        if count:
            result.notes.append(f"{count} contexts had a value the {label} policy does not accept; "
                                "it was left unknown there")
    only_old = sorted(set(old.features.names()) - set(new.features.names()))
    only_new = sorted(set(new.features.names()) - set(old.features.names()))
    if only_old:
        result.notes.append("features only the old policy has: " + ", ".join(only_old))
    if only_new:
        result.notes.append("features only the new policy has: " + ", ".join(only_new))
    return result


def _effects(score: ToolScore | None) -> dict[tuple[str, str], float]:
    if score is None:
        return {}
    return {(reason.kind, reason.id): reason.weight for reason in score.held}


def explain_difference(old: Decision, new: Decision) -> list[str]:
    """The clauses and rules whose effect differs between two decisions for one context,
    for the tools that matter (the old and the new recommendation)."""
    lines: list[str] = []
    if old.chosen_by != new.chosen_by:
        lines.append(f"decided by {old.chosen_by} before, by {new.chosen_by} now")
    for rule_id in [r for r in new.rules_fired if r not in old.rules_fired]:
        lines.append(f"rule `{rule_id}` now fires")
    for rule_id in [r for r in old.rules_fired if r not in new.rules_fired]:
        lines.append(f"rule `{rule_id}` no longer fires")
    tools = [t for t in dict.fromkeys([old.tool, new.tool]) if t is not None]
    for tool_id in tools:
        before, after = old.score_of(tool_id), new.score_of(tool_id)
        if before is None or after is None:
            present = after if before is None else before
            held = ", ".join(f"{k[0]} `{k[1]}` ({_signed(w)})" for k, w in _effects(present).items())
            state = "new in play" if before is None else "no longer in play"
            lines.append(f"`{tool_id}` is {state}" + (f"; it holds {held}" if held else ""))
            continue
        was, now = _effects(before), _effects(after)
        for key in [k for k in now if k not in was]:
            lines.append(f"`{tool_id}`: {key[0]} `{key[1]}` ({_signed(now[key])}) now holds")
        for key in [k for k in was if k not in now]:
            lines.append(f"`{tool_id}`: {key[0]} `{key[1]}` ({_signed(was[key])}) no longer holds")
        for key in [k for k in now if k in was and now[k] != was[k]]:
            lines.append(f"`{tool_id}`: {key[0]} `{key[1]}` weighs {_signed(now[key])} (was {_signed(was[key])})")
        if (before.excluded_by is None) != (after.excluded_by is None):
            if after.excluded_by is not None:
                lines.append(f"`{tool_id}` is now ruled out by `{after.excluded_by.id}`")
            else:
                assert before.excluded_by is not None
                lines.append(f"`{tool_id}` is no longer ruled out by `{before.excluded_by.id}`")
        if round(before.score, 6) != round(after.score, 6):
            lines.append(f"`{tool_id}` scores {after.score:g} (was {before.score:g})")
    if old.tool == new.tool and old.confident != new.confident:
        lines.append(f"margin over the runner-up: {new.margin} (was {old.margin}); "
                     f"minimum score {new.policy.min_score:g}, margin {new.policy.min_margin:g}")
    return lines


def _signed(value: float) -> str:
    return f"{value:+g}" if value else "0"


def diff_sampled(old: Policy, new: Policy, count: int, seed: int) -> PolicyDiff:
    """The diff over ``count`` contexts drawn from both schemas' interesting values."""
    if count < 1 or count > MAX_CONTEXTS:
        raise SpecError(f"the sample size must be from 1 to {MAX_CONTEXTS}, not {count}")
    contexts = sample_contexts([old, new], count, seed)
    return diff_policies(old, new, contexts, source=f"{count} contexts sampled from the schemas' domain, seed {seed}")


__all__ = ["ChangedDecision", "PolicyDiff", "diff_policies", "diff_sampled", "explain_difference", "read_contexts"]
