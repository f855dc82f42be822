"""Warnings about a policy that loads but cannot do what it looks like it does.

Each finding has a code, a severity (``info``, ``warning``, ``error``), a message, a
location and, where there is advice, a hint. The checks:

- ``unreachable-tool``: no context makes the tool the recommendation (see
  ``reachability`` for how the domain is searched and when the answer is exact);
- ``condition-never-holds`` / ``condition-always-holds``: a condition, or a comparison
  inside one, that no known value can make true, or that every known value makes true;
- ``limitations-cancel-capabilities``: whenever any capability of a tool holds, one of
  its exclusions holds too; ``penalties-outweigh``: the tool never scores above zero;
- ``rule-conflict``: a require (or prefer) and a forbid of the same tool that can fire
  together, or two requires (prefers) of different tools at the same priority;
- ``rule-without-effect``: a require or prefer whose tool is ruled out whenever it fires;
- ``unused-feature``: a feature no condition reads (``text`` features feed word matching
  and are left out); ``no-evidence``, ``no-how-to``, ``no-capabilities`` on a tool;
- ``load-warning``: the loader's own warnings.

Questions about one condition, one tool or two rules only involve a few features, so they
are answered over every combination of those features' interesting values (exact), or,
past ``COMBINATION_LIMIT`` combinations, over a seeded sample (and the message says so).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .conditions import (
    Compare,
    CompiledCondition,
    Condition,
    Flag,
    Member,
    Not,
    compile_condition,
    parse,
    unparse,
)
from .domain import Checked, Domain, domain_of
from .errors import Location, SpecError
from .policy import Clause, CompiledTool, GuardRule, Policy
from .reachability import Reachability, find_reachable
from .yamlsource import SourceDoc, load_yaml

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")
LINT_FORMAT_VERSION = 1
COMBINATION_LIMIT = 200_000
SAMPLE_SIZE = 40_000


@dataclass(frozen=True)
class Finding:
    """One thing lint found, located."""

    code: str
    severity: Severity
    message: str
    location: Location | None = None
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location or Location("")
        return (loc.file, loc.line, loc.column, self.message)

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.severity}: {self.message} [{self.code}]"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        return {"code": self.code, "severity": self.severity, "message": self.message, "hint": self.hint,
                "file": loc.file if loc else None, "line": loc.line if loc else None,
                "column": loc.column if loc else None}


def severity_rank(level: str) -> int:
    """0 for info, 1 for warning, 2 for error; a SpecError for anything else."""
    if level not in SEVERITIES:
        raise SpecError(f"unknown severity `{level}`", hint="use info, warning or error")
    return SEVERITIES.index(level)


@dataclass
class LintReport:
    """Every finding for one policy, and how the search for unreachable tools was done."""

    policy: Policy
    findings: list[Finding]
    reachability: Reachability
    notes: list[str] = field(default_factory=list)

    def at_or_above(self, level: str) -> list[Finding]:
        rank = severity_rank(level)
        return [f for f in self.findings if severity_rank(f.severity) >= rank]

    def counts(self) -> dict[str, int]:
        return {level: sum(1 for f in self.findings if f.severity == level) for level in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        return {"version": LINT_FORMAT_VERSION,
                "policy": {"name": self.policy.name, "version": self.policy.version, "hash": self.policy.hash,
                           "path": self.policy.path},
                "search": self.reachability.to_dict(), "counts": self.counts(),
                "findings": [f.to_dict() for f in self.findings]}


# --- finding places in files -----------------------------------------------------------------

class _Places:
    """Positions inside the files of a loaded policy (re-read on demand)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.docs: dict[str, SourceDoc | None] = {}

    def doc(self, file: str) -> SourceDoc | None:
        if file not in self.docs:
            try:
                self.docs[file] = load_yaml(Path(file), display=file)
            except SpecError:
                self.docs[file] = None
        return self.docs[file]

    def tool(self, tool: CompiledTool, path: tuple[Any, ...] = ("id",)) -> Location:
        doc = self.doc(tool.file)
        return doc.locate(path) if doc else Location(tool.file)

    def clause_path(self, clause: Clause) -> tuple[Any, ...] | None:
        spec = self.policy.tools[clause.tool].spec
        group = "capabilities" if clause.kind == "capability" else "limitations"
        for index, item in enumerate(getattr(spec, group)):
            if item.id == clause.id:
                return (group, index, "when")
        return None

    def rule_path(self, rule: GuardRule) -> tuple[Any, ...] | None:
        doc = self.doc(rule.location.file)
        rules = doc.data.get("rules") if doc and isinstance(doc.data, dict) else None
        if isinstance(rules, list):
            for index, item in enumerate(rules):
                if isinstance(item, dict) and item.get("id") == rule.id:
                    return ("rules", index, "when")
        return None

    def inside(self, file: str, path: tuple[Any, ...] | None, fallback: Location, node: Condition) -> Location:
        doc = self.doc(file)
        if doc is None or path is None:
            return fallback
        return doc.locate_in_scalar(path, node.line, node.column)

    def feature(self, name: str) -> Location:
        found = Location(self.policy.path)
        for file in self.policy.files:
            doc = self.doc(file)
            if doc and isinstance(doc.data, dict) and isinstance(doc.data.get("features"), dict) \
                    and name in doc.data["features"]:
                found = doc.locate(("features", name), key=True)
        return found


# --- searching a few features ------------------------------------------------------------------

@dataclass(frozen=True)
class _Search:
    witness: Checked | None
    exhaustive: bool
    tried: int


def _exists(domain: Domain, names: Sequence[str], holds: Callable[[Checked], bool], seed: int) -> _Search:
    """A combination of the interesting values of ``names`` where ``holds``, searched
    exhaustively when there are at most COMBINATION_LIMIT, else by a seeded sample."""
    names = sorted(names)
    size = domain.size(names)
    if size <= COMBINATION_LIMIT:
        tried = 0
        for indexes in domain.combinations(names):
            tried += 1
            checked = domain.checked_context(names, indexes)
            if holds(checked):
                return _Search(checked, True, tried)
        return _Search(None, True, tried)
    rng = random.Random(seed)
    for tried in range(1, SAMPLE_SIZE + 1):
        checked = domain.checked_context(names, domain.random_indexes(names, rng))
        if holds(checked):
            return _Search(checked, False, tried)
    return _Search(None, False, SAMPLE_SIZE)


def _show_context(policy: Policy, checked: Mapping[str, Any], names: Iterable[str] | None = None) -> str:
    shown = policy.features.shown(checked)
    keys = [n for n in (names if names is not None else shown) if n in shown]
    unknown = [n for n in (names or []) if n not in shown]
    parts = [f"{k}={_word(shown[k])}" for k in keys] + [f"{k} unknown" for k in sorted(unknown)]
    return ", ".join(parts) if parts else "every feature unknown"


def _word(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _qualifier(search: _Search) -> str:
    return "" if search.exhaustive else f" (in {search.tried} sampled combinations)"


# --- the checks ----------------------------------------------------------------------------------

def _atoms(cond: Condition) -> list[Condition]:
    if isinstance(cond, (Flag, Compare, Member)):
        return [cond]
    if isinstance(cond, Not):
        return _atoms(cond.operand)
    return [atom for operand in cond.operands for atom in _atoms(operand)]


def _constant_conditions(policy: Policy, places: _Places, known: Domain, seed: int) -> list[Finding]:
    """Conditions (and comparisons inside them) that no known value makes true, or every
    known value makes true."""
    findings: list[Finding] = []
    compiled: dict[str, CompiledCondition] = {}
    verdicts: dict[str, tuple[str | None, _Search | None]] = {}

    def verdict(text: str) -> tuple[str | None, _Search | None]:
        if text not in verdicts:
            if text not in compiled:
                compiled[text] = compile_condition(text, policy.features)
            cond = compiled[text]
            names = sorted(cond.features)
            true = _exists(known, names, lambda c: cond.test(c) is True, seed)
            if true.witness is None:
                verdicts[text] = ("never", true)
            else:
                false = _exists(known, names, lambda c: cond.test(c) is False, seed)
                verdicts[text] = ("always", false) if false.witness is None else (None, None)
        return verdicts[text]

    places_of: list[tuple[str, str, tuple[Any, ...] | None, Location, str]] = []
    for tool in policy.tools.values():
        for clause in tool.clauses:
            what = f"{clause.kind} `{clause.id}` of `{tool.id}`"
            places_of.append((clause.when, tool.file, places.clause_path(clause), clause.location, what))
    for rule in policy.rules:
        places_of.append((rule.spec.when, rule.location.file, places.rule_path(rule), rule.location,
                          f"rule `{rule.id}`"))

    for text, file, path, location, what in places_of:
        tree = parse(text)
        atoms = _atoms(tree)
        reported = False
        if len(atoms) > 1 or isinstance(tree, Not):
            for atom in atoms:
                kind, search = verdict(unparse(atom))
                if kind is None or search is None:
                    continue
                reported = True
                findings.append(_constant_finding(policy, kind, search, unparse(atom), what,
                                                  places.inside(file, path, location, atom), part=True))
        kind, search = verdict(text)
        if kind is not None and search is not None and not reported:
            where = places.inside(file, path, location, tree) if path else location
            findings.append(_constant_finding(policy, kind, search, " ".join(text.split()), what, where, part=False))
    return findings


def _constant_finding(policy: Policy, kind: str, search: _Search, text: str, what: str, where: Location,
                      *, part: bool) -> Finding:
    names = sorted(compile_condition(text, policy.features).features)
    domains = "; ".join(f"`{n}` takes {policy.features[n].describe_domain()}" for n in names)
    subject = f"`{text}` in the condition of {what}" if part else f"the condition `{text}` of {what}"
    if kind == "never":
        return Finding("condition-never-holds", "warning",
                       f"{subject} can never hold{_qualifier(search)}", where,
                       f"{domains}; as written it never counts")
    return Finding("condition-always-holds", "warning",
                   f"{subject} holds whenever {', '.join(f'`{n}`' for n in names)} is known{_qualifier(search)}",
                   where, f"{domains}; it tells no two contexts apart, so tighten it or drop it")


def _tool_checks(policy: Policy, places: _Places, domain: Domain, seed: int) -> list[Finding]:
    findings: list[Finding] = []
    for tool in policy.tools.values():
        spec = tool.spec
        if not spec.evidence:
            findings.append(Finding("no-evidence", "warning", f"tool `{tool.id}` cites no evidence",
                                    places.tool(tool), "add entries under `evidence` and name them in `sources`"))
        if not spec.how_to:
            findings.append(Finding("no-how-to", "warning", f"tool `{tool.id}` has no how-to steps",
                                    places.tool(tool), "add the steps a person follows under `how_to`"))
        capabilities = [c for c in tool.scored if c.kind == "capability"]
        if not capabilities:
            findings.append(Finding("no-capabilities", "warning",
                                    f"tool `{tool.id}` has no capabilities: no context gives it credit",
                                    places.tool(tool), "say where it reaches under `capabilities`"))
            continue
        names = sorted(frozenset().union(*(c.features for c in tool.clauses)))

        def free_capability(checked: Checked, tool: CompiledTool = tool) -> bool:
            return any(c.test(checked) is True for c in tool.scored if c.kind == "capability") and not any(
                c.test(checked) is True for c in tool.exclusions)

        search = _exists(domain, names, free_capability, seed)
        if search.witness is None:
            findings.append(Finding(
                "limitations-cancel-capabilities", "warning",
                f"whenever a capability of `{tool.id}` holds, one of its exclusions holds too{_qualifier(search)}",
                places.tool(tool, ("limitations",)),
                "no capability can ever count; narrow the exclusions or widen the capabilities"))
            continue
        def scores_above_zero(checked: Checked, tool: CompiledTool = tool) -> bool:
            return not any(c.test(checked) is True for c in tool.exclusions) and sum(
                c.weight for c in tool.scored if c.test(checked) is True) > 0

        positive = _exists(domain, names, scores_above_zero, seed)
        if positive.witness is None:
            findings.append(Finding(
                "penalties-outweigh", "warning",
                f"the penalties of `{tool.id}` always outweigh its capabilities: wherever it is not excluded "
                f"it scores 0 or less{_qualifier(positive)}",
                places.tool(tool, ("limitations",)), "lower the penalties' weights or narrow their conditions"))
    return findings


def _rule_checks(policy: Policy, domain: Domain, seed: int) -> list[Finding]:
    findings: list[Finding] = []
    rules = list(policy.rules)

    def together(a: GuardRule, b: GuardRule) -> _Search:
        names = sorted(a.features | b.features)
        return _exists(domain, names, lambda c: a.test(c) is True and b.test(c) is True, seed)

    for i, first in enumerate(rules):
        for second in rules[i + 1:]:
            for a, b in ((first, second), (second, first)):
                if a.spec.action in ("require", "prefer") and b.spec.action == "forbid" \
                        and a.spec.targets[0] in b.spec.targets and not a.spec.locked:
                    search = together(a, b)
                    if search.witness is not None:
                        target = a.spec.targets[0]
                        findings.append(Finding(
                            "rule-conflict", "warning",
                            f"rule `{a.id}` ({a.spec.action} `{target}`) and rule `{b.id}` (forbid `{target}`) "
                            f"can fire together, e.g. when {_show_context(policy, search.witness)}",
                            b.location if b.order > a.order else a.location,
                            f"then the forbid wins and `{a.id}` does not fire; narrow one condition"))
            if first.spec.action == second.spec.action and first.spec.action in ("require", "prefer") \
                    and first.spec.targets[0] != second.spec.targets[0] \
                    and first.spec.priority == second.spec.priority:
                search = together(first, second)
                if search.witness is not None:
                    verb = first.spec.action
                    findings.append(Finding(
                        "rule-conflict", "warning" if verb == "require" else "info",
                        f"rules `{first.id}` and `{second.id}` {verb} different tools "
                        f"(`{first.spec.targets[0]}`, `{second.spec.targets[0]}`) at the same priority "
                        f"({first.spec.priority}) and can fire together, e.g. when "
                        f"{_show_context(policy, search.witness)}",
                        second.location, f"file order decides silently (`{first.id}` wins); give one a "
                        "higher `priority` or make the conditions exclusive"))
    for rule in rules:
        if rule.spec.action == "forbid" or rule.spec.locked:
            continue
        target = rule.spec.targets[0]
        tool = policy.tools.get(target)
        if tool is None:
            continue
        removers: list[Any] = [*tool.exclusions, *(r for r in rules if r.spec.action == "forbid"
                                                  and target in r.spec.targets)]
        if not removers:
            continue
        names = sorted(rule.features.union(*(r.features for r in removers)))

        def effective(checked: Checked, rule: GuardRule = rule, removers: list[Any] = removers) -> bool:
            return rule.test(checked) is True and not any(r.test(checked) is True for r in removers)

        def holds(checked: Checked, rule: GuardRule = rule) -> bool:
            return rule.test(checked) is True

        fires = _exists(domain, sorted(rule.features), holds, seed)
        search = _exists(domain, names, effective, seed)
        if fires.witness is not None and search.witness is None:
            findings.append(Finding(
                "rule-without-effect", "warning",
                f"rule `{rule.id}` {rule.spec.action}s `{target}`, but whenever it holds `{target}` is ruled "
                f"out{_qualifier(search)}", rule.location,
                f"an excluded or forbidden tool cannot be {'required' if rule.spec.action == 'require' else 'preferred'}; "
                f"check `{target}`'s exclusions and the forbids naming it"))
    return findings


def _unused_features(policy: Policy, places: _Places) -> list[Finding]:
    used: set[str] = set()
    for tool in policy.tools.values():
        for clause in tool.clauses:
            used |= clause.features
    for rule in policy.rules:
        used |= rule.features
    return [Finding("unused-feature", "warning", f"feature `{f.name}` is read by no condition",
                    places.feature(f.name),
                    "a consultation would ask for it and nothing would change; use it in a condition or remove it")
            for f in policy.features if f.kind != "text" and f.name not in used]


def _reachability_findings(policy: Policy, places: _Places, found: Reachability) -> list[Finding]:
    findings: list[Finding] = []
    for tool_id in found.unreachable:
        tool = policy.tools[tool_id]
        if found.method == "exhaustive":
            message = f"tool `{tool_id}` is never recommended: no context in the schema's domain makes it win"
        else:
            message = (f"tool `{tool_id}` was never recommended in {found.contexts_tried} contexts searched "
                       "(sampling and hill-climbing toward it)")
        hint = "give it a capability where no other tool fits better, or lower what outranks it"
        closest = found.closest.get(tool_id)
        if closest is not None:
            hint = (f"closest: with {closest} it scored {_word(round(found.closest_scores[tool_id][0], 6))} and "
                    f"`{found.closest_scores[tool_id][1]}` won; " + hint)
        findings.append(Finding("unreachable-tool", "warning", message, places.tool(tool), hint))
    return findings


def lint_policy(policy: Policy, *, seed: int = 0, reachability: Reachability | None = None) -> LintReport:
    """Every finding for a loaded policy, sorted by location."""
    places = _Places(policy)
    domain = domain_of(policy)
    known = domain_of(policy, known_only=True)
    found = reachability or find_reachable(policy, seed=seed, domain=domain)
    findings: list[Finding] = [
        Finding("load-warning", "warning", p.message, p.location, p.hint) for p in policy.warnings
        if p.severity != "error"
    ]
    findings += _reachability_findings(policy, places, found)
    findings += _constant_conditions(policy, places, known, seed)
    findings += _tool_checks(policy, places, domain, seed)
    findings += _rule_checks(policy, domain, seed)
    findings += _unused_features(policy, places)
    findings.sort(key=Finding.sort_key)
    return LintReport(policy, findings, found, [found.describe()])


__all__ = ["SEVERITIES", "Finding", "LintReport", "Severity", "lint_policy", "severity_rank"]
