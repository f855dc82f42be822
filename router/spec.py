"""The file formats as pydantic models: tool specs and policies. Unknown fields are
rejected so that a misspelt key is an error, not a silently ignored line."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .features import FEATURE_KINDS, Feature, FeatureKind

ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --- features --------------------------------------------------------------------------

class FeatureSpec(Strict):
    """One feature of a policy's context schema."""

    type: FeatureKind = Field(description="category | ordinal | number | integer | boolean | text")
    levels: list[str] | None = Field(None, description="the levels, in order for an ordinal")
    min: float | None = Field(None, description="smallest allowed value (numbers)")
    max: float | None = Field(None, description="largest allowed value (numbers)")
    unit: str | None = Field(None, description="the unit of a number, e.g. minutes")
    question: str | None = Field(None, description="the question a consultation asks")
    help: str | None = Field(None, description="what the answers mean")

    @model_validator(mode="after")
    def _levels_fit_the_type(self) -> FeatureSpec:
        if self.type in ("category", "ordinal"):
            if not self.levels or len(self.levels) < 2:
                raise ValueError(f"a {self.type} feature needs at least two `levels`")
            if len(set(self.levels)) != len(self.levels):
                raise ValueError("`levels` repeat a name")
            for level in self.levels:
                if not isinstance(level, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", level):
                    raise ValueError(f"level `{level}` is not a plain word (start with a letter; letters, "
                                     "digits, `_` and `-`)")
                if level in ("and", "or", "not", "in", "true", "false"):
                    raise ValueError(f"level `{level}` is a reserved word")
        elif self.levels is not None:
            raise ValueError(f"a {self.type} feature has no `levels`")
        if self.type not in ("number", "integer") and (self.min is not None or self.max is not None):
            raise ValueError(f"a {self.type} feature has no `min` or `max`")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("`min` is larger than `max`")
        return self

    def to_feature(self, name: str) -> Feature:
        return Feature(name=name, kind=self.type, levels=tuple(self.levels or ()), minimum=self.min,
                       maximum=self.max, unit=self.unit, question=self.question, help=self.help)


# --- tool specs ------------------------------------------------------------------------

class Capability(Strict):
    """Where a tool reaches: when ``when`` holds, ``weight`` is added to its score."""

    id: str = Field(pattern=ID_PATTERN)
    when: str
    weight: float = Field(gt=0, le=100)
    why: str
    sources: list[str] = Field(default_factory=list)


class Limitation(Strict):
    """Where a tool fails: ``exclude`` removes it, ``penalty`` lowers its score by ``weight``."""

    id: str = Field(pattern=ID_PATTERN)
    when: str
    severity: Literal["exclude", "penalty"]
    weight: float | None = Field(None, gt=0, le=100)
    why: str
    sources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _weight_fits_severity(self) -> Limitation:
        if self.severity == "penalty" and self.weight is None:
            raise ValueError("a `penalty` limitation needs a `weight`")
        if self.severity == "exclude" and self.weight is not None:
            raise ValueError("an `exclude` limitation takes no `weight`: it removes the tool outright")
        return self


class FailureMode(Strict):
    name: str
    signs: str
    remedy: str


class Cost(Strict):
    minutes: float = Field(ge=0)
    range: tuple[float, float] | None = None
    effort: Literal["low", "medium", "high"] = "medium"


class Evidence(Strict):
    key: str
    citation: str
    kind: Literal["meta-analysis", "rct", "field", "lab", "expert", "theory", "traditional"]
    strength: Literal["strong", "moderate", "weak", "mixed"]
    finding: str | None = None


class ToolSpec(Strict):
    """A reasoning tool: what it is, where it reaches, where it fails, and why we think so."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    family: Literal["analytic", "heuristic", "contemplative", "social"] = "heuristic"
    summary: str
    how_to: list[str] = Field(default_factory=list)
    capabilities: list[Capability] = Field(default_factory=list)
    limitations: list[Limitation] = Field(default_factory=list)
    failure_modes: list[FailureMode] = Field(default_factory=list)
    cost: Cost | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _clause_ids_are_unique(self) -> ToolSpec:
        seen: set[str] = set()
        clauses: list[Capability | Limitation] = [*self.capabilities, *self.limitations]
        for clause in clauses:
            if clause.id in seen:
                raise ValueError(f"clause id `{clause.id}` is used twice")
            seen.add(clause.id)
        return self


# --- policies --------------------------------------------------------------------------

class Rule(Strict):
    """A guardrail: when ``when`` holds, require, forbid or prefer a tool. Applied after
    scoring; never outweighed by scores."""

    id: str = Field(pattern=ID_PATTERN)
    when: str
    require: str | None = None
    forbid: str | list[str] | None = None
    prefer: str | None = None
    priority: int = 0
    locked: bool = False
    reason: str

    @model_validator(mode="after")
    def _one_action(self) -> Rule:
        given = [name for name in ("require", "forbid", "prefer") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("a rule takes exactly one of `require`, `forbid` or `prefer`")
        return self

    @property
    def action(self) -> Literal["require", "forbid", "prefer"]:
        return "require" if self.require else "prefer" if self.prefer else "forbid"

    @property
    def targets(self) -> tuple[str, ...]:
        if self.forbid is not None:
            return (self.forbid,) if isinstance(self.forbid, str) else tuple(self.forbid)
        return ((self.require or self.prefer) or "",)


class Thresholds(Strict):
    min_score: float = Field(0.0, description="the best score must reach this to be confident")
    min_margin: float = Field(0.0, ge=0, description="and beat the runner-up by this much")
    text_weight: float = Field(1.0, ge=0, le=10, description=(
        "the most a match between the person's description and a tool's situations adds to its score"))


class AuditSettings(Strict):
    """What the audit trail keeps of a context."""

    drop: list[str] = Field(default_factory=list, description="features left out of the record")
    hash: list[str] = Field(default_factory=list, description="features kept only as a keyed hash")
    keep_description: bool = Field(False, description="keep the description's text (else a keyed hash)")


class PolicySpec(Strict):
    """A policy: the context schema, the tools in play, guardrails, thresholds, fallback."""

    name: str
    version: str = "0"
    description: str | None = None
    extends: str | None = None
    features: dict[str, FeatureSpec] = Field(default_factory=dict)
    tools: list[str] = Field(default_factory=list, description="tool spec files, relative to this file; globs allowed")
    rules: list[Rule] = Field(default_factory=list)
    thresholds: Thresholds | None = None
    fallback: str | None = None
    audit: AuditSettings | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("features")
    @classmethod
    def _feature_names(cls, value: dict[str, FeatureSpec]) -> dict[str, FeatureSpec]:
        for name in value:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or name in ("and", "or", "not", "in"):
                raise ValueError(f"feature name `{name}` is not a plain name (letters, digits, `_`)")
        return value


__all__ = [
    "FEATURE_KINDS", "AuditSettings", "Capability", "Cost", "Evidence", "FailureMode",
    "FeatureSpec", "Limitation", "PolicySpec", "Rule", "Thresholds", "ToolSpec",
]
