"""Which tools a policy can ever recommend, and a context for each one that it can.

The search walks the interesting values of the schema (see ``domain``): every
combination when there are at most ``exhaustive_limit`` of them, which is exact; else a
seeded random sample, then, for each tool not yet chosen, greedy hill-climbing from the
sampled contexts where it came closest, changing one feature at a time toward making it
win. The second way can miss a narrow region, so a tool it reports as never chosen is
"not found", not proven unreachable; the result says which way was used.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .conditions import Junction, Test, compile_condition, parse, unparse
from .decision import Decision
from .domain import Checked, Context, Domain, domain_of
from .policy import Policy
from .router import Router

EXHAUSTIVE_LIMIT = 50_000
SAMPLES = 3_000
RESTARTS = 6
MAX_STEPS = 40

# How far a tool is from winning, as one number to climb: an exclusion or forbid that
# holds counts more than a guardrail choosing another tool, which counts more than any
# score gap.
_REMOVED = 1000.0
_OVERRULED = 100.0


@dataclass
class Reachability:
    """The result of the search: a witness context per tool chosen, how it was found."""

    method: Literal["exhaustive", "search"]
    contexts_tried: int
    seed: int
    domain_size: int
    witnesses: dict[str, Context] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)
    # for a tool never chosen: the context where it came closest, its score there and the
    # tool chosen instead
    closest: dict[str, str] = field(default_factory=dict)
    closest_scores: dict[str, tuple[float, str]] = field(default_factory=dict)

    def describe(self) -> str:
        if self.method == "exhaustive":
            return (f"exhaustive: every one of the {self.domain_size} combinations of interesting values "
                    "was routed")
        return (f"search: {self.contexts_tried} contexts routed (seeded random sample of the "
                f"{self.domain_size} combinations of interesting values, then hill-climbing toward "
                f"each tool not yet chosen; seed {self.seed}); not exhaustive")

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "contexts_tried": self.contexts_tried, "seed": self.seed,
                "domain_size": self.domain_size, "description": self.describe(),
                "unreachable": list(self.unreachable)}


# Partial credit for a capability whose `and` is partly met, so that climbing has a slope
# toward a narrow conjunction; small enough never to outweigh a real score difference.
_PARTIAL = 1e-2

_parts_cache: dict[tuple[int, str], tuple[object, tuple[Test, ...]]] = {}


def _conjuncts(policy: Policy, text: str) -> tuple[Test, ...]:
    """The tests of the top-level `and` operands of a condition (or of the whole one)."""
    key = (id(policy.features), text)
    cached = _parts_cache.get(key)
    if cached is None or cached[0] is not policy.features:  # an id can be reused by a later schema
        tree = parse(text)
        operands = tree.operands if isinstance(tree, Junction) and tree.op == "and" else (tree,)
        cached = (policy.features, tuple(compile_condition(unparse(o), policy.features).test for o in operands))
        _parts_cache[key] = cached
    return cached[1]


def distance_to_win(policy: Policy, decision: Decision, tool_id: str, checked: Checked) -> float:
    """0 when ``tool_id`` is chosen, else a negative number that grows toward 0 as it gets
    closer to winning."""
    if decision.tool == tool_id:
        return 0.0
    tool = policy.tools[tool_id]
    partial = 0.0
    for clause in tool.scored:
        if clause.weight > 0 and clause.test(checked) is not True:
            parts = _conjuncts(policy, clause.when)
            partial += clause.weight * sum(1 for t in parts if t(checked) is True) / len(parts)
    removed = sum(1 for c in tool.exclusions if c.test(checked))
    removed += sum(1 for r in policy.rules if r.spec.action == "forbid" and tool_id in r.spec.targets
                   and r.test(checked))
    overruled = sum(1 for r in policy.rules if r.spec.action in ("require", "prefer")
                    and r.spec.targets[0] != tool_id and r.test(checked))
    mine = decision.score_of(tool_id)
    own = mine.score if mine is not None else 0.0
    others = [s.score for s in decision.scores if s.id != tool_id and not s.excluded]
    gap = own - max(others, default=own)
    shortfall = max(0.0, policy.min_score - own)
    return -(_REMOVED * removed + _OVERRULED * overruled) + min(gap, 0.0) - shortfall - 1.0 + _PARTIAL * partial / (
        1.0 + sum(c.weight for c in tool.scored if c.weight > 0))


def find_reachable(policy: Policy, *, seed: int = 0, exhaustive_limit: int = EXHAUSTIVE_LIMIT,
                   samples: int = SAMPLES, restarts: int = RESTARTS, max_steps: int = MAX_STEPS,
                   domain: Domain | None = None) -> Reachability:
    """Search the domain for a context where each tool of ``policy`` is recommended."""
    domain = domain or domain_of(policy)
    router = Router(policy)
    names = domain.names
    size = domain.size()
    tools = list(policy.tools)
    tried = 0

    def route(indexes: Sequence[int]) -> Decision:
        nonlocal tried
        tried += 1
        return router.route(domain.context(names, indexes))

    if size <= exhaustive_limit:
        found = Reachability("exhaustive", 0, seed, size)
        for indexes in domain.combinations(names):
            decision = route(indexes)
            if decision.tool is not None and decision.tool not in found.witnesses:
                found.witnesses[decision.tool] = domain.context(names, indexes)
        found.contexts_tried = tried
        found.unreachable = [t for t in tools if t not in found.witnesses]
        return found

    found = Reachability("search", 0, seed, size)
    rng = random.Random(seed)
    # for every tool, the few sampled contexts where it came closest to winning
    nearest: dict[str, list[tuple[float, int, tuple[int, ...]]]] = {t: [] for t in tools}
    for number in range(samples):
        indexes = domain.random_indexes(names, rng)
        decision = route(indexes)
        if decision.tool is not None and decision.tool not in found.witnesses:
            found.witnesses[decision.tool] = domain.context(names, indexes)
        checked = domain.checked_context(names, indexes)
        for tool_id in tools:
            if tool_id in found.witnesses:
                continue
            score = distance_to_win(policy, decision, tool_id, checked)
            heap = nearest[tool_id]
            item = (score, number, indexes)
            if len(heap) < restarts:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)

    for tool_id in tools:
        if tool_id in found.witnesses:
            continue
        starts = [start for _, _, start in sorted(nearest[tool_id], reverse=True)]
        best: tuple[float, list[int]] | None = None
        for start in starts:
            value, reached = _climb(policy, domain, names, start, tool_id, route, rng, max_steps)
            if value == 0.0:
                found.witnesses[tool_id] = domain.context(names, reached)
                break
            if best is None or value > best[0]:
                best = (value, reached)
        if tool_id not in found.witnesses and best is not None:
            context = domain.context(names, best[1])
            decision = router.route(context)
            mine = decision.score_of(tool_id)
            read = frozenset().union(*(c.features for c in policy.tools[tool_id].clauses))
            found.closest[tool_id] = show_context({k: v for k, v in context.items() if k in read})
            found.closest_scores[tool_id] = (mine.score if mine else 0.0, decision.tool or "no tool")
    found.contexts_tried = tried
    found.unreachable = [t for t in tools if t not in found.witnesses]
    return found


def _climb(policy: Policy, domain: Domain, names: list[str], start: tuple[int, ...], tool_id: str,
           route: Callable[[Sequence[int]], Decision], rng: random.Random, max_steps: int
           ) -> tuple[float, list[int]]:
    """Greedy first-improvement climbing, one feature changed at a time; sideways moves
    are allowed a few times to cross plateaus where no single change moves the score."""
    current = list(start)

    def value(indexes: Sequence[int]) -> float:
        decision = route(indexes)
        return distance_to_win(policy, decision, tool_id, domain.checked_context(names, indexes))

    best = value(current)
    sideways = 3
    for _ in range(max_steps):
        if best == 0.0:
            return best, current
        moves = [(i, j) for i, name in enumerate(names) for j in range(len(domain.raw[name])) if j != current[i]]
        rng.shuffle(moves)
        improved = False
        plateau: list[int] | None = None
        for i, j in moves:
            candidate = list(current)
            candidate[i] = j
            score = value(candidate)
            if score > best:
                current, best, improved = candidate, score, True
                break
            if score == best and plateau is None:
                plateau = candidate
        if not improved:
            if plateau is None or sideways == 0:
                break
            sideways -= 1
            current = plateau
    return best, current


def show_context(context: Context) -> str:
    """``goal=cope, stakes=high``: a context in one line."""
    def word(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return ", ".join(f"{k}={word(v)}" for k, v in context.items()) or "every feature unknown"


__all__ = ["Reachability", "distance_to_win", "find_reachable", "show_context"]
