"""Belief systems and mappings: the two file kinds, their validation and loaders.

A belief system is a set of concepts (each of a kind, with a value in [-1, 1]) and
signed causal edges between them. A mapping pairs concepts of one system with concepts
of another, one-to-one, possibly partially.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import Location, Problem, SpecError, closest
from ..yamlsource import PathKey, SourceDoc, load_yaml

Kind = Literal["principle", "event", "action", "state"]
KINDS: tuple[Kind, ...] = ("principle", "event", "action", "state")
FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- file schemas


class ConceptSpec(BaseModel):
    """One concept of a belief system."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, description="unique name of the concept in this system")
    kind: Kind = Field(description="principle, event, action or state")
    value: float = Field(ge=-1, le=1, description="how good the system holds this to be; 0 neutral")
    label: str | None = Field(default=None, description="a readable label")


class EdgeSpec(BaseModel):
    """One signed causal edge."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    from_: str = Field(alias="from", min_length=1, description="id of the cause")
    to: str = Field(min_length=1, description="id of the effect")
    w: float = Field(ge=-1, le=1, description="signed strength in [-1, 1]")
    p: float | None = Field(default=None, ge=0, le=1,
                            description="how sure the system is of this edge (1 when absent)")
    why: str | None = Field(default=None, description="the reason the system gives")


# The comparison holds dense concept-by-concept matrices and searches over them: past a few
# hundred concepts it runs out of time or memory, so larger systems are refused up front.
MAX_CONCEPTS = 500
MAX_EDGES = 25_000


class BeliefSystemSpec(BaseModel):
    """A belief-system file."""

    model_config = ConfigDict(extra="forbid", strict=True, title="belief system")

    name: str = Field(min_length=1)
    version: str | int | float | None = None
    description: str | None = None
    sources: list[str] = Field(default_factory=list, description="what the model is a reading of")
    concepts: list[ConceptSpec] = Field(default_factory=list, max_length=MAX_CONCEPTS)
    causal: list[EdgeSpec] = Field(default_factory=list, max_length=MAX_EDGES)


class PairSpec(BaseModel):
    """One pair of a mapping."""

    model_config = ConfigDict(extra="forbid", strict=True)

    a: str = Field(min_length=1, description="concept id in the first system")
    b: str = Field(min_length=1, description="concept id in the second system")
    why: str | None = None


class MappingSpec(BaseModel):
    """A mapping file: pairs of concepts, one-to-one, possibly partial."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, title="mapping")

    from_: str | None = Field(default=None, alias="from", description="name of the first system")
    to: str | None = Field(default=None, description="name of the second system")
    pairs: list[PairSpec] = Field(default_factory=list)


def json_schemas() -> dict[str, Any]:
    """JSON Schema of both file kinds."""
    return {
        "belief_system": BeliefSystemSpec.model_json_schema(by_alias=True),
        "mapping": MappingSpec.model_json_schema(by_alias=True),
    }


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class Concept:
    id: str
    kind: Kind
    value: float
    label: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    w: float
    p: float | None = None
    why: str | None = None


@dataclass(frozen=True)
class BeliefSystem:
    """A declared belief system. Build with :meth:`create` (validates) or the loader."""

    name: str
    concepts: tuple[Concept, ...]
    edges: tuple[Edge, ...]
    version: str | None = None
    description: str | None = None
    sources: tuple[str, ...] = ()
    file: str | None = None
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c.id: i for i, c in enumerate(self.concepts)})
        problems = _system_problems(self.concepts, self.edges, None)
        if problems:
            raise SpecError(problems=problems)

    @classmethod
    def create(
        cls,
        name: str,
        concepts: Sequence[Concept | tuple[str, str, float]],
        edges: Sequence[Edge | tuple[str, str, float]] = (),
        **extra: Any,
    ) -> BeliefSystem:
        """Build a system from concepts ``(id, kind, value)`` and edges ``(from, to, w)``."""
        cs = tuple(c if isinstance(c, Concept) else Concept(c[0], c[1], float(c[2]))  # type: ignore[arg-type]
                   for c in concepts)
        es = tuple(e if isinstance(e, Edge) else Edge(e[0], e[1], float(e[2])) for e in edges)
        return cls(name=name, concepts=cs, edges=es, **extra)

    @classmethod
    def from_dict(cls, data: Any, *, file: str = "<data>") -> BeliefSystem:
        """Validate plain data shaped like a belief-system file."""
        return _system_from_doc(SourceDoc(file, data))

    # --- views
    @property
    def n(self) -> int:
        return len(self.concepts)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.concepts]

    def index(self, concept_id: str) -> int:
        return self._index[concept_id]

    def has(self, concept_id: str) -> bool:
        return concept_id in self._index

    def concept(self, concept_id: str) -> Concept:
        return self.concepts[self._index[concept_id]]

    def kinds(self) -> list[Kind]:
        return [c.kind for c in self.concepts]

    def values(self) -> FloatArray:
        return np.array([c.value for c in self.concepts], dtype=float)

    def matrix(self) -> FloatArray:
        """Weights as an n×n matrix, ``W[i, j]`` the edge from concept i to concept j."""
        w = np.zeros((self.n, self.n))
        for e in self.edges:
            w[self._index[e.source], self._index[e.target]] = e.w
        return w

    def confidence(self) -> FloatArray:
        """Each edge's ``p`` as an n×n matrix (1 when absent, 0 where there is no edge)."""
        p = np.zeros((self.n, self.n))
        for e in self.edges:
            p[self._index[e.source], self._index[e.target]] = 1.0 if e.p is None else e.p
        return p

    def with_matrix(self, w: FloatArray, name: str | None = None) -> BeliefSystem:
        """The same concepts with the edges of ``w`` (no ``why``/``p`` kept)."""
        ids = self.ids
        rows, cols = np.nonzero(w)
        edges = tuple(Edge(ids[i], ids[j], float(np.clip(w[i, j], -1, 1)))
                      for i, j in zip(rows.tolist(), cols.tolist()) if i != j)
        return BeliefSystem(name=name or self.name, concepts=self.concepts, edges=edges)


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    why: str | None = None


@dataclass(frozen=True)
class Mapping:
    """A one-to-one, possibly partial, correspondence between two systems' concepts."""

    pairs: tuple[Pair, ...]
    source: str | None = None  # the first system's name
    target: str | None = None
    file: str | None = None

    @classmethod
    def create(cls, pairs: Sequence[Pair | tuple[str, str]], **extra: Any) -> Mapping:
        ps = tuple(p if isinstance(p, Pair) else Pair(p[0], p[1]) for p in pairs)
        return cls(pairs=ps, **extra)

    def check(self, a: BeliefSystem, b: BeliefSystem) -> Mapping:
        """Raise a SpecError unless this mapping fits systems ``a`` and ``b``."""
        problems = _mapping_problems(self, a, b, None)
        if problems:
            raise SpecError(problems=problems)
        return self

    def as_indices(self, a: BeliefSystem, b: BeliefSystem) -> list[tuple[int, int]]:
        return [(a.index(p.a), b.index(p.b)) for p in self.pairs]

    def __len__(self) -> int:
        return len(self.pairs)


# --------------------------------------------------------------------------- validation


def _loc(doc: SourceDoc | None, path: PathKey, key: bool = False) -> Location | None:
    return doc.locate(path, key=key) if doc is not None else None


def _system_problems(concepts: Sequence[Concept], edges: Sequence[Edge],
                     doc: SourceDoc | None) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(concepts):
        if c.kind not in KINDS:
            problems.append(Problem(f"unknown kind `{c.kind}`", _loc(doc, ("concepts", i, "kind")),
                                    closest(str(c.kind), KINDS)))
        if not -1.0 <= c.value <= 1.0 or c.value != c.value:
            problems.append(Problem(f"value `{c.value}` is outside [-1, 1]",
                                    _loc(doc, ("concepts", i, "value"))))
        if c.id in seen:
            problems.append(Problem(f"concept `{c.id}` is declared twice (first as concept {seen[c.id] + 1})",
                                    _loc(doc, ("concepts", i, "id"))))
        else:
            seen[c.id] = i
    pairs: dict[tuple[str, str], int] = {}
    for i, e in enumerate(edges):
        for end, key in ((e.source, "from"), (e.target, "to")):
            if end not in seen:
                problems.append(Problem(f"edge names unknown concept `{end}`",
                                        _loc(doc, ("causal", i, key)), closest(end, seen)))
        if not -1.0 <= e.w <= 1.0 or e.w != e.w:
            problems.append(Problem(f"weight `{e.w}` is outside [-1, 1]", _loc(doc, ("causal", i, "w"))))
        if e.p is not None and not 0.0 <= e.p <= 1.0:
            problems.append(Problem(f"`p` `{e.p}` is outside [0, 1]", _loc(doc, ("causal", i, "p"))))
        if e.source == e.target:
            problems.append(Problem(f"concept `{e.source}` cannot cause itself",
                                    _loc(doc, ("causal", i, "to"))))
        key2 = (e.source, e.target)
        if key2 in pairs:
            problems.append(Problem(
                f"edge `{e.source}` -> `{e.target}` is declared twice (first as edge {pairs[key2] + 1})",
                _loc(doc, ("causal", i))))
        else:
            pairs[key2] = i
    return problems


def _mapping_problems(m: Mapping, a: BeliefSystem, b: BeliefSystem,
                      doc: SourceDoc | None) -> list[Problem]:
    problems: list[Problem] = []
    if m.source is not None and m.source != a.name:
        problems.append(Problem(f"mapping is from `{m.source}` but the first system is `{a.name}`",
                                _loc(doc, ("from",))))
    if m.target is not None and m.target != b.name:
        problems.append(Problem(f"mapping is to `{m.target}` but the second system is `{b.name}`",
                                _loc(doc, ("to",))))
    seen_a: dict[str, int] = {}
    seen_b: dict[str, int] = {}
    for i, p in enumerate(m.pairs):
        for side, cid, system, seen in (("a", p.a, a, seen_a), ("b", p.b, b, seen_b)):
            where = _loc(doc, ("pairs", i, side))
            if not system.has(cid):
                problems.append(Problem(f"`{cid}` is not a concept of `{system.name}`", where,
                                        closest(cid, system.ids)))
            elif cid in seen:
                problems.append(Problem(
                    f"`{cid}` is mapped twice (first in pair {seen[cid] + 1}); a mapping is one-to-one",
                    where))
            else:
                seen[cid] = i
    return problems


def _pydantic_problems(exc: ValidationError, doc: SourceDoc, model: type[BaseModel]) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc: PathKey = tuple(err["loc"])
        kind = err["type"]
        name = str(loc[-1]) if loc else "file"
        if kind == "extra_forbidden":
            allowed = _allowed_fields(model, loc[:-1])
            problems.append(Problem(f"unknown field `{name}`", doc.locate(loc, key=True),
                                    closest(name, allowed) or
                                    (f"allowed: {', '.join(sorted(allowed))}" if allowed else None)))
        elif kind == "missing":
            problems.append(Problem(f"missing field `{name}`", doc.locate(loc)))
        elif kind == "literal_error":
            got = str(err.get("input"))
            problems.append(Problem(f"`{name}` must be one of {', '.join(f'`{k}`' for k in KINDS)}, "
                                    f"not `{got}`", doc.locate(loc), closest(got, KINDS)))
        elif kind in ("model_type", "dict_type") and not loc:
            problems.append(Problem("expected a mapping of fields at the top level", doc.locate(())))
        else:
            msg = str(err["msg"])
            msg = msg[0].lower() + msg[1:] if msg else "invalid value"
            problems.append(Problem(f"`{name}`: {msg.rstrip('.')}", doc.locate(loc)))
    return problems


def _allowed_fields(model: type[BaseModel], path: PathKey) -> list[str]:
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        info = None
        for fname, finfo in current.model_fields.items():
            if (finfo.alias or fname) == part:
                info = finfo
        if info is None:
            return []
        ann = info.annotation
        args = getattr(ann, "__args__", ())
        current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:
            return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _system_from_doc(doc: SourceDoc) -> BeliefSystem:
    data = doc.data if doc.data is not None else {}
    try:
        spec = BeliefSystemSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems=_pydantic_problems(exc, doc, BeliefSystemSpec)) from None
    concepts = tuple(Concept(c.id, c.kind, float(c.value), c.label) for c in spec.concepts)
    edges = tuple(Edge(e.from_, e.to, float(e.w), None if e.p is None else float(e.p), e.why)
                  for e in spec.causal)
    version = None if spec.version is None else str(spec.version)
    problems = _system_problems(concepts, edges, doc)
    if problems:
        raise SpecError(problems=problems)
    return BeliefSystem(name=spec.name, concepts=concepts, edges=edges, version=version,
                        description=spec.description, sources=tuple(spec.sources), file=doc.file)


def load_belief_system(path: Path | str) -> BeliefSystem:
    """Read, validate and return a belief-system file (SpecError with locations if wrong)."""
    return _system_from_doc(load_yaml(path))


def mapping_from_doc(doc: SourceDoc, a: BeliefSystem, b: BeliefSystem) -> Mapping:
    data = doc.data if doc.data is not None else {}
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems=_pydantic_problems(exc, doc, MappingSpec)) from None
    m = Mapping(pairs=tuple(Pair(p.a, p.b, p.why) for p in spec.pairs),
                source=spec.from_, target=spec.to, file=doc.file)
    problems = _mapping_problems(m, a, b, doc)
    if problems:
        raise SpecError(problems=problems)
    return m


def load_mapping(path: Path | str, a: BeliefSystem, b: BeliefSystem) -> Mapping:
    """Read a mapping file and check it against systems ``a`` (first) and ``b`` (second)."""
    return mapping_from_doc(load_yaml(path), a, b)
