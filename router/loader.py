"""Files → validated models → a compiled Policy. Every problem found, across every file a
policy uses, is collected and raised together as one SpecError, each located in the file
where the mistake is."""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ._version import __version__
from .conditions import CompiledCondition, compile_condition, compile_tree, parse, tree_from_data, tree_to_data
from .errors import ConditionError, Location, Problem, SpecError, closest
from .features import FeatureSet, merged
from .loadcache import LoadCache, cache_path
from .policy import Clause, CompiledTool, GuardRule, Policy
from .spec import AuditSettings, PolicySpec, ToolSpec
from .yamlsource import SourceDoc, load_yaml, parse_yaml, read_text

M = TypeVar("M", bound=BaseModel)

DEFAULT_POLICY_NAME = "default"


# --- where the shipped files are -----------------------------------------------------------

def shipped_root() -> Path:
    """The folder holding the shipped ``tools/`` and ``policies/``: inside the installed
    package when installed from a wheel, else the source checkout."""
    packaged = Path(__file__).resolve().parent / "_shipped"
    if (packaged / "policies").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def default_policy_path() -> Path:
    return shipped_root() / "policies" / f"{DEFAULT_POLICY_NAME}.yaml"


def display_path(path: Path) -> str:
    """A short name for messages: relative to the working directory when below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


# --- pydantic errors → located problems ------------------------------------------------------

def validation_problems(error: ValidationError, doc: SourceDoc, model: type[BaseModel],
                        base: tuple[Any, ...] = ()) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and part.startswith(("function-", "union["))))
        loc = tuple(p for p in loc if p not in ("list[str]", "str", "tuple[float, float]"))
        kind = item["type"]
        path = base + loc
        name = str(loc[-1]) if loc else ""
        if kind == "extra_forbidden":
            fields = _fields_at(model, loc[:-1])
            problems.append(Problem(f"unknown field `{name}`", doc.locate(path, key=True),
                                    closest(name, fields) or (f"allowed here: {', '.join(fields)}" if fields else None)))
        elif kind == "missing":
            problems.append(Problem(f"missing field `{name}`", doc.locate(path[:-1])))
        elif kind == "value_error":
            message = str(item.get("ctx", {}).get("error", item["msg"]))
            problems.append(Problem(message.removeprefix("Value error, "), doc.locate(path)))
        elif kind == "literal_error":
            expected = item.get("ctx", {}).get("expected", "")
            problems.append(Problem(f"`{_show(item.get('input'))}` is not allowed for `{name}`",
                                    doc.locate(path), f"expected one of {expected}"))
        elif kind == "string_pattern_mismatch":
            problems.append(Problem(f"`{_show(item.get('input'))}` is not a valid id for `{name}`",
                                    doc.locate(path), "use lowercase letters, digits, `-` and `_`"))
        else:
            message = item["msg"][0].lower() + item["msg"][1:]
            where = f"`{name}`: " if name and not isinstance(loc[-1], int) else ""
            problems.append(Problem(f"{where}{message}", doc.locate(path)))
    return problems


def _show(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 50 else text[:47] + "..."


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        info = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if info is None:
            return []
        annotation = info.annotation
        current = _inner_model(annotation)
        if current is None:
            return []
    # as written in files: a field's alias where it has one (`not` for the model's `not_`)
    return [info.alias or name for name, info in getattr(current, "model_fields", {}).items()]


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validate(doc: SourceDoc, model: type[M], what: str) -> M:
    """The model for a parsed file, or a SpecError locating every problem."""
    if not isinstance(doc.data, dict):
        raise SpecError(f"a {what} file must be a mapping of fields", at=doc.locate(()))
    try:
        return model.model_validate(doc.data)
    except ValidationError as error:
        raise SpecError(problems=validation_problems(error, doc, model)) from None


# --- tools -------------------------------------------------------------------------------------

def _read_yaml(path: Path, cache: LoadCache | None) -> SourceDoc:
    if cache is None:
        return load_yaml(path, display=display_path(path))
    text = read_text(path)
    name = display_path(path)
    doc = cache.get_doc(text, name)
    if doc is None:
        doc = parse_yaml(text, name)
        cache.put_doc(text, name, doc)
    return doc


def read_tool(path: Path | str, cache: LoadCache | None = None) -> tuple[ToolSpec, SourceDoc]:
    path = Path(path)
    doc = _read_yaml(path, cache)
    return validate(doc, ToolSpec, "tool spec"), doc


def load_tool(path: Path | str) -> ToolSpec:
    """A validated tool spec (its conditions are checked when a policy uses it)."""
    spec, _ = read_tool(path)
    return spec


def content_hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compile_at(text: str, features: FeatureSet, doc: SourceDoc, path: tuple[Any, ...],
                problems: list[Problem], cache: LoadCache | None = None) -> CompiledCondition | None:
    def where(line: int, column: int) -> Location:
        return doc.locate_in_scalar(path, line, column)

    try:
        if cache is None:
            return compile_condition(text, features, where)
        stored = cache.get_tree(text) if isinstance(text, str) else None
        if stored is not None:
            try:
                tree = tree_from_data(stored)
            except (IndexError, TypeError, ValueError, KeyError):
                tree = parse(text, where)
        else:
            tree = parse(text, where)
            cache.put_tree(text, tree_to_data(tree))
        return compile_tree(text, tree, features, where)
    except ConditionError as error:
        problems.extend(error.problems)
        return None


def compile_tool(spec: ToolSpec, doc: SourceDoc, features: FeatureSet, problems: list[Problem],
                 cache: LoadCache | None = None) -> CompiledTool:
    scored: list[Clause] = []
    exclusions: list[Clause] = []
    for group, kind in (("capabilities", "capability"), ("limitations", "limitation")):
        for index, item in enumerate(getattr(spec, group)):
            compiled = _compile_at(item.when, features, doc, (group, index, "when"), problems, cache)
            if compiled is None:
                continue
            severity = getattr(item, "severity", None)
            if kind == "capability":
                weight = item.weight or 0.0
            else:
                weight = 0.0 if severity == "exclude" else -(item.weight or 0.0)
            clause = Clause(spec.id, kind, item.id, item.when, severity, weight, item.why,  # type: ignore[arg-type]
                            tuple(item.sources), compiled.test, compiled.features,
                            doc, (group, index, "when"))
            (exclusions if severity == "exclude" else scored).append(clause)
        for index, item in enumerate(getattr(spec, group)):
            keys = {e.key for e in spec.evidence}
            for s_index, source in enumerate(item.sources):
                if spec.evidence and source not in keys:
                    problems.append(Problem(
                        f"source `{source}` names no entry of `evidence`", doc.locate((group, index, "sources", s_index)),
                        closest(source, keys), severity="warning"))
    return CompiledTool(spec, tuple(scored), tuple(exclusions), doc.file,
                        content_hash(spec.model_dump(mode="json")))


# --- policies --------------------------------------------------------------------------------

def _cache_version() -> str:
    grammar = (Path(__file__).with_name("conditions.lark")).read_bytes()
    return f"{__version__}:{hashlib.sha256(grammar).hexdigest()[:16]}"


def _resolve_extends(value: str, base_dir: Path) -> Path:
    if value == DEFAULT_POLICY_NAME:
        return default_policy_path()
    return (base_dir / value).resolve()


def _chain(path: Path, problems: list[Problem], cache: LoadCache | None = None
           ) -> list[tuple[Path, SourceDoc, PolicySpec]]:
    """The policy and the ones it extends, base first."""
    chain: list[tuple[Path, SourceDoc, PolicySpec]] = []
    seen: list[Path] = []
    current = path.resolve()
    came_from: tuple[SourceDoc, PolicySpec] | None = None
    while True:
        if current in seen:
            assert came_from is not None
            cycle = " -> ".join(display_path(p) for p in [*seen, current])
            problems.append(Problem(f"`extends` makes a cycle: {cycle}", came_from[0].locate(("extends",))))
            break
        seen.append(current)
        if came_from is not None and not current.is_file():
            problems.append(Problem(f"`extends` names a policy that is not there: `{came_from[1].extends}`",
                                    came_from[0].locate(("extends",)),
                                    "use `default` for the shipped policy, or a path relative to this file"))
            break
        doc = _read_yaml(current, cache)
        spec = validate(doc, PolicySpec, "policy")
        chain.append((current, doc, spec))
        if not spec.extends:
            break
        came_from = (doc, spec)
        current = _resolve_extends(spec.extends, current.parent)
    chain.reverse()
    return chain


def _tool_paths(patterns: Iterable[str], base_dir: Path, doc: SourceDoc, problems: list[Problem]) -> list[Path]:
    found: list[Path] = []
    for index, pattern in enumerate(patterns):
        full = base_dir / pattern
        if glob.has_magic(pattern):
            matches = sorted(Path(p) for p in glob.glob(str(full)))
            if not matches:
                problems.append(Problem(f"no tool files match `{pattern}`", doc.locate(("tools", index))))
            found.extend(m.resolve() for m in matches)
        elif not full.is_file():
            problems.append(Problem(f"tool file not found: `{pattern}`", doc.locate(("tools", index)),
                                    "paths are relative to the policy file"))
        else:
            found.append(full.resolve())
    return found


def load_policy(path: Path | str | None = None) -> Policy:
    """Load, resolve (``extends``), validate and compile a policy and every tool it uses.
    Raises one SpecError listing every error found; warnings are kept on the Policy."""
    path = Path(path) if path is not None else default_policy_path()
    if not path.exists():
        raise SpecError(f"policy file not found: `{path}`", at=Location(str(path)))
    problems: list[Problem] = []
    cache = LoadCache(cache_path(path), _cache_version())
    chain = _chain(path, problems, cache)
    if any(p.severity == "error" for p in problems):
        raise SpecError(problems=problems)

    feature_sets = []
    for _, _, spec in chain:
        feature_sets.append([fs.to_feature(name) for name, fs in spec.features.items()])
    features = merged(*feature_sets)

    tools: dict[str, CompiledTool] = {}
    tool_docs: dict[str, SourceDoc] = {}
    files: list[str] = []
    rules: list[GuardRule] = []
    min_score = min_margin = 0.0
    text_weight = 1.0
    fallback: tuple[str, SourceDoc] | None = None
    audit = AuditSettings.model_validate({})
    seen_files: set[Path] = set()
    unloaded: set[str] = set()  # tools whose files failed: no cascade of "not in play" errors
    for file_path, doc, spec in chain:
        files.append(doc.file)
        for tool_path in _tool_paths(spec.tools, file_path.parent, doc, problems):
            if tool_path in seen_files:
                continue
            seen_files.add(tool_path)
            try:
                tool_spec, tool_doc = read_tool(tool_path, cache)
            except SpecError as error:
                problems.extend(error.problems)
                unloaded.add(tool_path.stem)
                continue
            if tool_spec.id in tools:
                problems.append(Problem(
                    f"tool `{tool_spec.id}` is given again and replaces the one in `{tools[tool_spec.id].file}`",
                    tool_doc.locate(("id",)), severity="warning"))
            tools[tool_spec.id] = compile_tool(tool_spec, tool_doc, features, problems, cache)
            tool_docs[tool_spec.id] = tool_doc
            files.append(tool_doc.file)
        for index, rule in enumerate(spec.rules):
            compiled = _compile_at(rule.when, features, doc, ("rules", index, "when"), problems, cache)
            if compiled is not None:
                rules.append(GuardRule(rule, compiled.test, compiled.features, doc, ("rules", index), len(rules)))
        if spec.thresholds is not None:
            min_score, min_margin = spec.thresholds.min_score, spec.thresholds.min_margin
            text_weight = spec.thresholds.text_weight
        if spec.fallback is not None:
            fallback = (spec.fallback, doc)
        if spec.audit is not None:
            audit = spec.audit

    _check_references(chain, tools, fallback, rules, problems, unloaded)
    if not tools and not unloaded and not any(p.severity == "error" for p in problems):
        leaf_doc = chain[-1][1]
        problems.append(Problem("no tools in play", leaf_doc.locate(("tools",), key=True),
                                "list tool spec files under `tools:`, or use `extends: default`"))
    _check_audit_features(chain, features, problems)
    errors = [p for p in problems if p.severity == "error"]
    cache.save()
    if errors:
        raise SpecError(problems=problems)

    tools, rules, tests, slot_features = _share_conditions(tools, rules)
    leaf = chain[-1][2]
    resolved = {
        "name": leaf.name, "version": leaf.version,
        "features": {f.name: _feature_for_hash(f) for f in features},
        "tools": {tool_id: tool.spec.model_dump(mode="json") for tool_id, tool in tools.items()},
        "rules": [r.spec.model_dump(mode="json") for r in rules],
        "thresholds": [min_score, min_margin, text_weight], "fallback": fallback[0] if fallback else None,
        "audit": audit.model_dump(mode="json"),
    }
    return Policy(
        name=leaf.name, version=leaf.version, description=leaf.description, features=features,
        tools=tools, rules=tuple(rules), min_score=min_score, min_margin=min_margin, text_weight=text_weight,
        fallback=fallback[0] if fallback else None, audit=audit, hash=content_hash(resolved),
        path=str(chain[-1][0]), files=tuple(files), warnings=tuple(problems), tests=tests,
        slot_features=slot_features,
    )


def _share_conditions(tools: dict[str, CompiledTool], rules: list[GuardRule]
                      ) -> tuple[dict[str, CompiledTool], list[GuardRule], tuple[Any, ...], tuple[tuple[str, ...], ...]]:
    """Give every distinct condition one slot, so that routing evaluates each once however
    many tools share it (the catalog's guardrail conditions recur across many tools)."""
    slots: dict[str, int] = {}
    tests: list[Any] = []
    features: list[tuple[str, ...]] = []

    def slot_of(text: str, test: Any, reads: frozenset[str]) -> int:
        key = " ".join(text.split())
        if key not in slots:
            slots[key] = len(tests)
            tests.append(test)
            features.append(tuple(sorted(reads)))
        return slots[key]

    shared: dict[str, CompiledTool] = {}
    for tool_id, tool in tools.items():
        shared[tool_id] = dataclasses.replace(
            tool,
            scored=tuple(dataclasses.replace(c, slot=slot_of(c.when, c.test, c.features)) for c in tool.scored),
            exclusions=tuple(dataclasses.replace(c, slot=slot_of(c.when, c.test, c.features)) for c in tool.exclusions),
        )
    shared_rules = [dataclasses.replace(r, slot=slot_of(r.spec.when, r.test, r.features)) for r in rules]
    return shared, shared_rules, tuple(tests), tuple(features)


def _feature_for_hash(feature: Any) -> dict[str, Any]:
    return {"kind": feature.kind, "levels": list(feature.levels), "min": feature.minimum,
            "max": feature.maximum, "unit": feature.unit}


def _check_references(chain: list[tuple[Path, SourceDoc, PolicySpec]], tools: dict[str, CompiledTool],
                      fallback: tuple[str, SourceDoc] | None, rules: list[GuardRule],
                      problems: list[Problem], unloaded: set[str]) -> None:
    in_play = list(tools)
    if fallback is not None and fallback[0] not in tools and fallback[0] not in unloaded:
        problems.append(Problem(f"fallback `{fallback[0]}` is not a tool in play", fallback[1].locate(("fallback",)),
                                closest(fallback[0], in_play)))
    docs_by_rule: dict[int, tuple[SourceDoc, int]] = {}
    order = 0
    for _, doc, spec in chain:
        for index, _rule in enumerate(spec.rules):
            docs_by_rule[order] = (doc, index)
            order += 1
    seen_ids: dict[str, tuple[SourceDoc, int]] = {}
    for rule in rules:
        doc, index = docs_by_rule[rule.order]
        if rule.id in seen_ids:
            first_doc, first_index = seen_ids[rule.id]
            problems.append(Problem(
                f"rule id `{rule.id}` is used twice (first at {first_doc.locate(('rules', first_index, 'id'))})",
                doc.locate(("rules", index, "id"))))
        seen_ids.setdefault(rule.id, (doc, index))
        action = rule.spec.action
        for t_index, target in enumerate(rule.spec.targets):
            if target not in tools and target not in unloaded:
                path: tuple[Any, ...] = ("rules", index, action)
                if isinstance(rule.spec.forbid, list):
                    path += (t_index,)
                problems.append(Problem(f"rule `{rule.id}` names `{target}`, which is not a tool in play",
                                        doc.locate(path), closest(target, in_play)))
    # A locked rule's tool must stay choosable whenever the rule fires: nothing may
    # exclude or forbid it, in this policy or in one extending it.
    for rule in rules:
        if not rule.spec.locked or rule.spec.action == "forbid":
            continue
        target = rule.spec.targets[0]
        for other in rules:
            if other.spec.action == "forbid" and target in other.spec.targets:
                doc, index = docs_by_rule[other.order]
                problems.append(Problem(
                    f"rule `{other.id}` forbids `{target}`, which the locked rule `{rule.id}` requires",
                    doc.locate(("rules", index, "forbid")), "a locked rule's tool cannot be removed"))
        tool = tools.get(target)
        if tool is not None:
            for clause in tool.exclusions:
                problems.append(Problem(
                    f"limitation `{clause.id}` excludes `{target}`, which the locked rule `{rule.id}` requires",
                    clause.location, "a locked rule's tool cannot be removed; make it a penalty"))


def _check_audit_features(chain: list[tuple[Path, SourceDoc, PolicySpec]], features: FeatureSet,
                          problems: list[Problem]) -> None:
    for _, doc, spec in chain:
        if spec.audit is None:
            continue
        for group in ("drop", "hash"):
            for index, name in enumerate(getattr(spec.audit, group)):
                if name not in features:
                    problems.append(Problem(f"unknown feature `{name}` in `audit.{group}`",
                                            doc.locate(("audit", group, index)), closest(name, features.names())))
