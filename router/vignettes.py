"""Vignette suites: situations with the tools published guidance accepts and rules out.
Routing a suite measures a policy against that guidance: a pass chooses an accepted tool,
a violation chooses a forbidden one (a harmful recommendation, far worse than a miss)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .errors import ContextError, Problem, SpecError, closest
from .loader import validate
from .router import Router
from .yamlsource import SourceDoc, load_yaml


class Vignette(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    context: dict[str, Any]
    acceptable: list[str] = Field(min_length=1)
    forbidden: list[str] = Field(default_factory=list)
    principle: str | None = None
    source: str | None = None


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vignettes: list[Vignette]


@dataclass
class VignetteResult:
    vignette: Vignette
    tool: str | None
    explanation: str

    @property
    def passed(self) -> bool:
        return self.tool in self.vignette.acceptable

    @property
    def violated(self) -> bool:
        return self.tool in self.vignette.forbidden


@dataclass
class SuiteReport:
    results: list[VignetteResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def violations(self) -> list[VignetteResult]:
        return [r for r in self.results if r.violated]

    @property
    def misses(self) -> list[VignetteResult]:
        return [r for r in self.results if not r.passed]

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.results) if self.results else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1, "total": len(self.results), "passed": self.passed, "pass_rate": self.pass_rate,
            "violations": [{"id": r.vignette.id, "tool": r.tool} for r in self.violations],
            "misses": [{"id": r.vignette.id, "tool": r.tool, "acceptable": r.vignette.acceptable,
                        "principle": r.vignette.principle, "explanation": r.explanation} for r in self.misses],
        }


def read_suite(path: Path | str) -> tuple[list[Vignette], SourceDoc]:
    """A vignette suite (a YAML list), validated and located, with its source for locating
    later problems."""
    doc = load_yaml(Path(path))
    if not isinstance(doc.data, list) or not doc.data:
        raise SpecError("a vignette suite is a non-empty list of vignettes", at=doc.locate(()))
    wrapped = type(doc)(doc.file, {"vignettes": doc.data},
                        {("vignettes",) + k: v for k, v in doc.values.items()},
                        {("vignettes",) + k: v for k, v in doc.keys.items()})
    return validate(wrapped, Suite, "vignette suite").vignettes, doc


def load_suite(path: Path | str) -> list[Vignette]:
    """A vignette suite (a YAML list), validated and located."""
    return read_suite(path)[0]


def check_suite(router: Router, vignettes: list[Vignette], doc: SourceDoc) -> None:
    """Every context and every tool id of a suite fits the router's policy; one located
    error lists every problem."""
    problems: list[Problem] = []
    tools = list(router.policy.tools)
    for index, vignette in enumerate(vignettes):
        for key in ("acceptable", "forbidden"):
            for position, tool in enumerate(getattr(vignette, key)):
                if tool not in router.policy.tools:
                    problems.append(Problem(f"vignette `{vignette.id}`: unknown tool `{tool}`",
                                            doc.locate((index, key, position)), closest(tool, tools)))
        for name, value in vignette.context.items():
            try:
                router.policy.features.check_context({name: value})
            except ContextError as error:
                problems.extend(Problem(f"vignette `{vignette.id}`: {p.message}",
                                        doc.locate((index, "context", name), key=name not in router.policy.features),
                                        p.hint) for p in error.problems)
    if problems:
        raise SpecError(problems=problems)


def run_suite(router: Router, vignettes: list[Vignette], doc: SourceDoc | None = None) -> SuiteReport:
    """Route every vignette; with its source ``doc``, bad entries are located first."""
    if doc is not None:
        check_suite(router, vignettes, doc)
    report = SuiteReport()
    for vignette in vignettes:
        decision = router.route(vignette.context)
        report.results.append(VignetteResult(vignette, decision.tool, decision.explain()))
    return report
