"""Tests for policies, written by the people who write the policies: a YAML file of cases,
each a context and what must follow from it.

    policy: my-policy.yaml        # optional; relative to this file, or `default`
    cases:
      - name: risk of harm goes to professional help
        context: {safety_risk: true, goal: decide}
        tool: seek-professional-help     # the recommendation
        not: [trust-intuition]           # tools that must not be recommended
        confident: true                  # the decision's `confident`
        robust: true                     # the decision's `robust`
        fires: safety-first              # rule ids that must fire (one or a list)

A malformed file raises one SpecError locating every problem; running the cases gives a
``SuiteResult`` per file, and ``coverage`` says which clauses and rules the cases exercised.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from .decision import Decision
from .errors import ContextError, Location, Problem, SpecError, closest
from .features import Value
from .loader import default_policy_path, display_path, load_policy, validate
from .policy import Policy
from .router import Router
from .spec import Strict
from .yamlsource import SourceDoc, load_yaml

TEST_FILE_SUFFIX = ".tests.yaml"


# --- the file format -----------------------------------------------------------------------------

class PolicyCase(Strict):
    """One case: a context and what must follow from it."""

    name: str
    context: dict[str, Any] = Field(default_factory=dict, description="feature: value; leave a feature out for unknown")
    tool: str | None = Field(None, description="the tool that must be recommended")
    not_: list[str] = Field(default_factory=list, alias="not", description="tools that must not be recommended")
    confident: bool | None = None
    robust: bool | None = None
    fires: str | list[str] | None = Field(None, description="rule ids that must fire")
    why: str | None = Field(None, description="the principle the case pins, for readers")

    @model_validator(mode="after")
    def _expects_something(self) -> PolicyCase:
        if self.tool is None and not self.not_ and self.confident is None and self.robust is None \
                and not self.fires:
            raise ValueError("a case needs at least one of `tool`, `not`, `confident`, `robust` or `fires`")
        return self

    @property
    def rules(self) -> list[str]:
        if self.fires is None:
            return []
        return [self.fires] if isinstance(self.fires, str) else list(self.fires)


class PolicyTestFile(Strict):
    """A test file: an optional policy and a list of cases."""

    policy: str | None = Field(None, description="the policy under test, relative to this file, or `default`")
    description: str | None = None
    cases: list[PolicyCase] = Field(min_length=1)


# --- loading ---------------------------------------------------------------------------------------

@dataclass
class PolicySuite:
    """A checked test file, with the policy its cases run against."""

    file: str
    doc: SourceDoc
    spec: PolicyTestFile
    policy: Policy

    def case_location(self, index: int) -> Location:
        return self.doc.locate(("cases", index))


def resolve_policy_path(value: str, base: Path) -> Path:
    return default_policy_path() if value == "default" else (base / value).resolve()


def find_test_files(path: Path) -> list[Path]:
    """``path`` itself, or every ``*.tests.yaml`` below a folder, sorted."""
    if path.is_dir():
        found = sorted(p for p in path.rglob(f"*{TEST_FILE_SUFFIX}") if p.is_file())
        if not found:
            raise SpecError(f"no `*{TEST_FILE_SUFFIX}` files in `{display_path(path)}`",
                            at=Location(display_path(path)))
        return found
    if not path.exists():
        raise SpecError(f"test file not found: `{display_path(path)}`", at=Location(display_path(path)))
    return [path]


def load_suite(path: Path, *, policy: Path | None = None, cache: dict[Path, Policy] | None = None) -> PolicySuite:
    """Read and check a test file. The policy is the file's own ``policy``, else ``policy``,
    else the shipped default. Raises one SpecError locating every problem."""
    cache = cache if cache is not None else {}
    doc = load_yaml(path, display=display_path(path))
    spec = validate(doc, PolicyTestFile, "test")
    if spec.policy is not None:
        policy_path = resolve_policy_path(spec.policy, path.resolve().parent)
        if not policy_path.is_file():
            raise SpecError(f"policy not found: `{spec.policy}`", at=doc.locate(("policy",)),
                            hint="a path relative to this test file, or `default`")
    else:
        policy_path = (policy or default_policy_path()).resolve()
    if policy_path not in cache:
        cache[policy_path] = load_policy(policy_path)
    compiled = cache[policy_path]
    problems = _case_problems(doc, spec, compiled)
    if problems:
        raise SpecError(problems=problems)
    return PolicySuite(doc.file, doc, spec, compiled)


def _case_problems(doc: SourceDoc, spec: PolicyTestFile, policy: Policy) -> list[Problem]:
    problems: list[Problem] = []
    tools = list(policy.tools)
    rules = [r.id for r in policy.rules]
    seen: dict[str, int] = {}
    for index, case in enumerate(spec.cases):
        if case.name in seen:
            problems.append(Problem(f"case name `{case.name}` is used twice (first at line {seen[case.name]})",
                                    doc.locate(("cases", index, "name")), severity="error"))
        seen.setdefault(case.name, doc.locate(("cases", index, "name")).line)
        for key, value in case.context.items():
            where = ("cases", index, "context", key)
            if key not in policy.features:
                problems.append(Problem(f"unknown feature `{key}`", doc.locate(where, key=True),
                                        closest(str(key), policy.features.names())))
                continue
            try:
                policy.features.check_context({key: value})
            except ContextError as error:
                problems.extend(Problem(p.message, doc.locate(where), p.hint) for p in error.problems)
        named: list[tuple[tuple[Any, ...], str]] = []
        if case.tool is not None:
            named.append((("cases", index, "tool"), case.tool))
        named += [(("cases", index, "not", i), t) for i, t in enumerate(case.not_)]
        for place, tool_id in named:
            if tool_id not in policy.tools:
                problems.append(Problem(f"unknown tool `{tool_id}`", doc.locate(place),
                                        closest(tool_id, tools) or "`discern tools list` shows the tools in play"))
        for i, rule_id in enumerate(case.rules):
            at_rule: tuple[Any, ...] = ("cases", index, "fires") + ((i,) if isinstance(case.fires, list) else ())
            if rule_id not in rules:
                problems.append(Problem(f"unknown rule `{rule_id}`", doc.locate(at_rule),
                                        closest(rule_id, rules) or f"the policy's rules: {', '.join(rules) or 'none'}"))
    return problems


# --- running ---------------------------------------------------------------------------------------

@dataclass
class CaseResult:
    name: str
    location: Location
    failures: list[str]
    decision: Decision
    checked: dict[str, Value]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "failures": list(self.failures),
                "file": self.location.file, "line": self.location.line, "column": self.location.column,
                "tool": self.decision.tool, "confident": self.decision.confident, "robust": self.decision.robust,
                "rules_fired": list(self.decision.rules_fired)}


@dataclass
class SuiteResult:
    suite: PolicySuite
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]


def check_case(case: PolicyCase, decision: Decision) -> list[str]:
    """What the decision gets wrong against the case; empty when it passes."""
    failures: list[str] = []
    if case.tool is not None and decision.tool != case.tool:
        failures.append(f"expected tool `{case.tool}`, got `{decision.tool}`")
    if decision.tool is not None and decision.tool in case.not_:
        failures.append(f"`{decision.tool}` was recommended, but the case says `not` to it")
    if case.confident is not None and decision.confident != case.confident:
        failures.append(f"expected confident: {_yes(case.confident)}, got {_yes(decision.confident)}")
    if case.robust is not None and decision.robust != case.robust:
        unknowns = f" (could change with: {', '.join(decision.unknowns)})" if decision.unknowns else ""
        failures.append(f"expected robust: {_yes(case.robust)}, got {_yes(decision.robust)}{unknowns}")
    for rule_id in case.rules:
        if rule_id not in decision.rules_fired:
            fired = ", ".join(decision.rules_fired) or "none"
            failures.append(f"expected rule `{rule_id}` to fire; fired: {fired}")
    return failures


def _yes(value: bool) -> str:
    return "true" if value else "false"


def run_suite(suite: PolicySuite) -> SuiteResult:
    """Route every case's context under the suite's policy and check what follows."""
    router = Router(suite.policy)
    result = SuiteResult(suite)
    start = time.perf_counter()
    for index, case in enumerate(suite.spec.cases):
        decision = router.route(case.context)
        checked = suite.policy.features.check_context(case.context)
        result.results.append(CaseResult(case.name, suite.case_location(index), check_case(case, decision),
                                         decision, checked))
    result.seconds = time.perf_counter() - start
    return result


# --- coverage --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CoverageItem:
    """A capability, limitation or guardrail rule, and whether some case made it hold."""

    tool: str
    kind: str  # capability | limitation | rule
    id: str
    location: Location
    exercised: bool

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "kind": self.kind, "id": self.id, "exercised": self.exercised,
                "file": self.location.file, "line": self.location.line, "column": self.location.column}


def coverage(policy: Policy, contexts: Iterable[Mapping[str, Value]]) -> list[CoverageItem]:
    """For every tool, each clause and each rule naming it: did its condition hold in some
    context? (Held means true, not unknown.)"""
    contexts = list(contexts)

    def held(test: Any) -> bool:
        return any(test(c) is True for c in contexts)

    items: list[CoverageItem] = []
    for tool in policy.tools.values():
        for clause in [*(c for c in tool.scored if c.kind == "capability"),
                       *tool.exclusions, *(c for c in tool.scored if c.kind == "limitation")]:
            items.append(CoverageItem(tool.id, clause.kind, clause.id, clause.location, held(clause.test)))
        for rule in policy.rules:
            if tool.id in rule.spec.targets:
                items.append(CoverageItem(tool.id, "rule", rule.id, rule.location, held(rule.test)))
    return items


# --- reporting -------------------------------------------------------------------------------------

def summary_line(results: Iterable[SuiteResult], seconds: float) -> str:
    """``12 passed, 1 failed in 0.03s``."""
    every = [r for suite in results for r in suite.results]
    failed = sum(1 for r in every if not r.passed)
    passed = len(every) - failed
    parts = [f"{passed} passed"] + ([f"{failed} failed"] if failed else [])
    return f"{', '.join(parts)} in {seconds:.2f}s"


def render_results(results: list[SuiteResult], seconds: float) -> str:
    """The report in the style of pytest: a line of dots per file, then each failure with
    the decision's explanation, then a summary line."""
    lines: list[str] = []
    for suite in results:
        marks = "".join("." if r.passed else "F" for r in suite.results)
        lines.append(f"{suite.suite.file} {marks}  [{suite.suite.policy.name} {suite.suite.policy.version}]")
    failures = [(suite, r) for suite in results for r in suite.results if not r.passed]
    if failures:
        lines += ["", "=" * 30 + " FAILURES " + "=" * 30]
        for _suite, failure in failures:
            lines.append(f"___ {failure.name} ___")
            lines.append(f"{failure.location}: case `{failure.name}`")
            lines += [f"  {message}" for message in failure.failures]
            lines.append(f"  context: {_context_line(failure.decision.context)}")
            lines += ["  " + line for line in failure.decision.explain().splitlines()]
            lines.append("")
    lines.append(summary_line(results, seconds))
    return "\n".join(lines)


def _context_line(context: Mapping[str, Any]) -> str:
    def word(value: object) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else f"{value:g}" \
            if isinstance(value, float) else str(value)

    return ", ".join(f"{k}={word(v)}" for k, v in context.items()) or "(empty: every feature unknown)"


def render_coverage(policy: Policy, items: list[CoverageItem]) -> str:
    """Per tool: the clauses and rules the cases exercised and those they never did."""
    lines = [f"Coverage of {policy.name} {policy.version}: a clause counts as exercised when it held in some case"]
    total = len(items)
    done = sum(1 for i in items if i.exercised)
    for tool_id in policy.tools:
        mine = [i for i in items if i.tool == tool_id]
        if not mine:
            continue
        hit = [i for i in mine if i.exercised]
        lines.append(f"{tool_id}: {len(hit)}/{len(mine)}")
        if hit:
            lines.append("  exercised: " + ", ".join(f"{i.kind} {i.id}" for i in hit))
        missed = [i for i in mine if not i.exercised]
        if missed:
            lines.append("  never:     " + ", ".join(f"{i.kind} {i.id}" for i in missed))
    share = 100.0 * done / total if total else 100.0
    lines.append(f"{done}/{total} clauses and rules exercised ({share:.0f}%)")
    return "\n".join(lines)


def default_tests_path() -> Path:
    """The shipped default policy's test file."""
    return default_policy_path().with_name("default" + TEST_FILE_SUFFIX)


__all__ = [
    "CaseResult",
    "CoverageItem",
    "PolicyCase",
    "PolicySuite",
    "PolicyTestFile",
    "SuiteResult",
    "check_case",
    "coverage",
    "default_tests_path",
    "find_test_files",
    "load_suite",
    "render_coverage",
    "render_results",
    "run_suite",
    "summary_line",
]
