"""The `when` condition language: parse with lark, check against the schema, compile to
a three-valued test.

A compiled test takes a checked context (see ``features.FeatureSet.check_context``) and
returns True, False, or None when the context does not give what the answer depends on
(Kleene's logic: ``False and unknown`` is False, ``True or unknown`` is True).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConditionError, Location, closest
from .features import Feature, FeatureSet, Value

Truth = bool | None
Test = Callable[[Mapping[str, Value]], Truth]
Locate = Callable[[int, int], Location]

COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
MAX_CONDITION_CHARS = 2000


# --- the syntax tree -------------------------------------------------------------------

@dataclass(frozen=True)
class Literal_:
    """A value as written: a number or a word (a level, or true/false)."""

    text: str
    is_number: bool
    line: int = 1
    column: int = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Literal_) and (self.text, self.is_number) == (other.text, other.is_number)

    def __hash__(self) -> int:
        return hash((self.text, self.is_number))


@dataclass(frozen=True, eq=False)
class Node:
    line: int
    column: int


@dataclass(frozen=True, eq=False)
class Flag(Node):
    feature: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Flag) and other.feature == self.feature

    def __hash__(self) -> int:
        return hash(("flag", self.feature))


@dataclass(frozen=True, eq=False)
class Compare(Node):
    feature: str
    op: str
    value: Literal_

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Compare) and (other.feature, other.op, other.value) == (
            self.feature, self.op, self.value)

    def __hash__(self) -> int:
        return hash(("cmp", self.feature, self.op, self.value))


@dataclass(frozen=True, eq=False)
class Member(Node):
    feature: str
    values: tuple[Literal_, ...]
    negated: bool = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Member) and (other.feature, other.values, other.negated) == (
            self.feature, self.values, self.negated)

    def __hash__(self) -> int:
        return hash(("in", self.feature, self.values, self.negated))


@dataclass(frozen=True, eq=False)
class Not(Node):
    operand: Condition

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Not) and other.operand == self.operand

    def __hash__(self) -> int:
        return hash(("not", self.operand))


@dataclass(frozen=True, eq=False)
class Junction(Node):
    """``and`` / ``or`` over two or more operands."""

    op: str
    operands: tuple[Condition, ...]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Junction) and (other.op, other.operands) == (self.op, self.operands)

    def __hash__(self) -> int:
        return hash((self.op, self.operands))


Condition = Flag | Compare | Member | Not | Junction


def features_of(cond: Condition) -> frozenset[str]:
    if isinstance(cond, (Flag, Compare, Member)):
        return frozenset([cond.feature])
    if isinstance(cond, Not):
        return features_of(cond.operand)
    return frozenset().union(*(features_of(c) for c in cond.operands))


def unparse(cond: Condition) -> str:
    """Text that parses back to the same condition."""
    if isinstance(cond, Flag):
        return cond.feature
    if isinstance(cond, Compare):
        return f"{cond.feature} {cond.op} {cond.value.text}"
    if isinstance(cond, Member):
        inside = ", ".join(v.text for v in cond.values)
        return f"{cond.feature} {'not in' if cond.negated else 'in'} [{inside}]"
    if isinstance(cond, Not):
        inner = unparse(cond.operand)
        return f"not ({inner})" if isinstance(cond.operand, Junction) else f"not {inner}"
    parts = [f"({unparse(c)})" if isinstance(c, Junction) else unparse(c) for c in cond.operands]
    return f" {cond.op} ".join(parts)


# --- parsing -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    from lark import Lark

    grammar = (Path(__file__).with_name("conditions.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)


_KEYWORDS = {"and", "or", "not", "in"}


def _expected(names: set[str]) -> str:
    pretty = {
        "NAME": "a feature or level name", "SIGNED_NUMBER": "a number", "COMPARATOR": "a comparison",
        "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`",
        "_AND": "`and`", "_OR": "`or`", "_NOT": "`not`", "_IN": "`in`", "$END": "the end",
    }
    shown = sorted({pretty.get(n, n.lower()) for n in names})
    return ", ".join(shown[:6])


def parse(text: str, locate: Locate | None = None) -> Condition:
    """The syntax tree of a condition; a ConditionError with the position otherwise."""
    from lark import Token, Tree
    from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    where: Locate = locate or (lambda line, column: Location("<condition>", line, column))
    if not isinstance(text, str):
        raise ConditionError("a condition must be text", at=where(1, 1))
    if not text.strip():
        raise ConditionError("empty condition", at=where(1, 1),
                             hint="write a test such as `stakes >= high`")
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionError(f"condition is longer than {MAX_CONDITION_CHARS} characters", at=where(1, 1))
    try:
        tree = _parser().parse(text)
    except UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            line, column = _end_position(text)
            raise ConditionError("condition ends too early", at=where(line, column),
                                 hint=f"expected {_expected(set(exc.expected))}") from None
        raise ConditionError(f"unexpected `{token}`", at=where(token.line or 1, token.column or 1),
                             hint=f"expected {_expected(set(exc.expected))}") from None
    except UnexpectedCharacters as exc:
        position = exc.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        hint = "use `==` to compare" if char == "=" else (
            "write words without quotes, e.g. `goal == decide`" if char in "'\"" else None)
        raise ConditionError(f"unexpected character `{char}`", at=where(exc.line, exc.column),
                             hint=hint) from None
    except UnexpectedEOF:
        line, column = _end_position(text)
        raise ConditionError("condition ends too early", at=where(line, column)) from None
    except UnexpectedInput as exc:
        raise ConditionError("condition does not parse",
                             at=where(getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1)) from None
    except (LarkError, RecursionError):
        raise ConditionError("condition does not parse", at=where(1, 1)) from None

    def literal(node: Any) -> Literal_:
        token = node.children[0]
        return Literal_(str(token), node.data == "number", token.line, token.column)

    def build(node: Any) -> Condition:
        kind = node.data
        first = node.children[0]
        line = getattr(node.meta, "line", 1)
        column = getattr(node.meta, "column", 1)
        if kind == "flag":
            _no_keyword(first, where)
            return Flag(first.line, first.column, str(first))
        if kind == "compare":
            _no_keyword(first, where)
            return Compare(first.line, first.column, str(first), str(node.children[1]), literal(node.children[2]))
        if kind in ("member", "not_member"):
            _no_keyword(first, where)
            values = tuple(literal(c) for c in node.children[1:] if isinstance(c, Tree))
            return Member(first.line, first.column, str(first), values, kind == "not_member")
        if kind == "not_":
            return Not(line, column, build(node.children[0]))
        operands = tuple(build(c) for c in node.children if isinstance(c, Tree))
        return Junction(line, column, "and" if kind == "and_" else "or", operands)

    assert isinstance(tree, Tree) and not isinstance(tree, Token)
    try:
        return build(tree.children[0])
    except RecursionError:
        raise ConditionError("condition is nested too deeply", at=where(1, 1)) from None


def _no_keyword(token: Any, where: Locate) -> None:
    if str(token) in _KEYWORDS:
        raise ConditionError(f"unexpected `{token}`", at=where(token.line, token.column))


def _end_position(text: str) -> tuple[int, int]:
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1


# --- checking against the schema and compiling ------------------------------------------

@dataclass(frozen=True)
class CompiledCondition:
    """A checked condition: its text, tree, the features it reads, and its test."""

    text: str
    tree: Condition
    features: frozenset[str]
    test: Test


def compile_condition(text: str, features: FeatureSet, locate: Locate | None = None) -> CompiledCondition:
    """Parse and type-check ``text`` against ``features``; raise a located ConditionError."""
    where: Locate = locate or (lambda line, column: Location("<condition>", line, column))
    tree = parse(text, where)
    test = _compile(tree, features, where)
    return CompiledCondition(text, tree, features_of(tree), test)


def _feature(name: str, features: FeatureSet, node: Node, where: Locate) -> Feature:
    if name not in features:
        raise ConditionError(f"unknown feature `{name}`", at=where(node.line, node.column),
                             hint=closest(name, features.names()))
    return features[name]


def _typed(feature: Feature, literal: Literal_, where: Locate, *, ordered: bool) -> Value:
    at = where(literal.line, literal.column)
    if feature.kind in ("number", "integer"):
        if not literal.is_number:
            raise ConditionError(f"`{feature.name}` is a number, not a level: `{literal.text}`", at=at,
                                 hint=f"compare it with a number, e.g. `{feature.name} >= 3`")
        value = float(literal.text)
        return int(value) if feature.kind == "integer" and value.is_integer() else value
    if literal.is_number:
        raise ConditionError(f"`{feature.name}` takes {feature.describe_domain()}, not the number `{literal.text}`",
                             at=at)
    if feature.kind == "boolean":
        if literal.text not in ("true", "false"):
            raise ConditionError(f"`{feature.name}` is true or false, not `{literal.text}`", at=at)
        return literal.text == "true"
    if literal.text not in feature.levels:
        raise ConditionError(f"unknown level `{literal.text}` for feature `{feature.name}`", at=at,
                             hint=closest(literal.text, feature.levels)
                             or f"`{feature.name}` takes {feature.describe_domain()}")
    return feature.level_index(literal.text) if feature.kind == "ordinal" else literal.text


def _compile(node: Condition, features: FeatureSet, where: Locate) -> Test:
    if isinstance(node, Flag):
        feature = _feature(node.feature, features, node, where)
        if feature.kind != "boolean":
            example = f"{feature.name} == {feature.levels[0]}" if feature.levels else f"{feature.name} >= 1"
            raise ConditionError(f"`{feature.name}` is not true or false; it takes {feature.describe_domain()}",
                                 at=where(node.line, node.column), hint=f"compare it, e.g. `{example}`")
        name = feature.name

        def flag(ctx: Mapping[str, Value], name: str = name) -> Truth:
            value = ctx.get(name)
            return None if value is None else bool(value)

        return flag
    if isinstance(node, Compare):
        feature = _feature(node.feature, features, node, where)
        if feature.kind == "text":
            raise ConditionError(f"`{feature.name}` is free text and cannot be compared",
                                 at=where(node.line, node.column))
        ordered = feature.kind in ("ordinal", "number", "integer")
        if node.op not in ("==", "!=") and not ordered:
            raise ConditionError(f"`{node.op}` needs an ordered feature; `{feature.name}` is a {feature.kind}",
                                 at=where(node.line, node.column),
                                 hint=f"use `==`, `!=` or `in [...]` with `{feature.name}`")
        target = _typed(feature, node.value, where, ordered=ordered)
        compare = COMPARATORS[node.op]
        name = feature.name

        def comparison(ctx: Mapping[str, Value], name: str = name, target: Value = target,
                       compare: Callable[[Any, Any], bool] = compare) -> Truth:
            value = ctx.get(name)
            return None if value is None else compare(value, target)

        return comparison
    if isinstance(node, Member):
        feature = _feature(node.feature, features, node, where)
        if feature.kind in ("text", "boolean"):
            raise ConditionError(f"`in [...]` needs a feature with levels or numbers; `{feature.name}` is a {feature.kind}",
                                 at=where(node.line, node.column))
        allowed = frozenset(_typed(feature, v, where, ordered=False) for v in node.values)
        name = feature.name
        negated = node.negated

        def membership(ctx: Mapping[str, Value], name: str = name, allowed: frozenset[Value] = allowed,
                       negated: bool = negated) -> Truth:
            value = ctx.get(name)
            return None if value is None else (value in allowed) != negated

        return membership
    if isinstance(node, Not):
        inner = _compile(node.operand, features, where)

        def negation(ctx: Mapping[str, Value], inner: Test = inner) -> Truth:
            value = inner(ctx)
            return None if value is None else not value

        return negation
    # every operand is checked, so one message lists every mistake in the condition
    compiled: list[Test] = []
    problems = []
    for operand in node.operands:
        try:
            compiled.append(_compile(operand, features, where))
        except ConditionError as error:
            problems.extend(error.problems)
    if problems:
        raise ConditionError(problems=problems)
    parts = tuple(compiled)
    if node.op == "and":
        def conjunction(ctx: Mapping[str, Value], parts: tuple[Test, ...] = parts) -> Truth:
            unknown = False
            for part in parts:
                value = part(ctx)
                if value is False:
                    return False
                if value is None:
                    unknown = True
            return None if unknown else True

        return conjunction

    def disjunction(ctx: Mapping[str, Value], parts: tuple[Test, ...] = parts) -> Truth:
        unknown = False
        for part in parts:
            value = part(ctx)
            if value is True:
                return True
            if value is None:
                unknown = True
        return None if unknown else False

    return disjunction


# --- a plain-data form of the tree, for the load cache -------------------------------------

def tree_to_data(cond: Condition) -> list[Any]:
    """The tree as JSON-ready lists (positions kept), so a cache can skip parsing."""
    if isinstance(cond, Flag):
        return ["flag", cond.feature, cond.line, cond.column]
    if isinstance(cond, Compare):
        v = cond.value
        return ["cmp", cond.feature, cond.op, [v.text, v.is_number, v.line, v.column], cond.line, cond.column]
    if isinstance(cond, Member):
        values = [[v.text, v.is_number, v.line, v.column] for v in cond.values]
        return ["in", cond.feature, values, cond.negated, cond.line, cond.column]
    if isinstance(cond, Not):
        return ["not", tree_to_data(cond.operand), cond.line, cond.column]
    return [cond.op, [tree_to_data(c) for c in cond.operands], cond.line, cond.column]


def tree_from_data(data: list[Any]) -> Condition:
    kind = data[0]
    if kind == "flag":
        return Flag(data[2], data[3], data[1])
    if kind == "cmp":
        text, is_number, line, column = data[3]
        return Compare(data[4], data[5], data[1], data[2], Literal_(text, is_number, line, column))
    if kind == "in":
        values = tuple(Literal_(t, n, line, column) for t, n, line, column in data[2])
        return Member(data[4], data[5], data[1], values, data[3])
    if kind == "not":
        return Not(data[2], data[3], tree_from_data(data[1]))
    return Junction(data[2], data[3], kind, tuple(tree_from_data(d) for d in data[1]))


def compile_tree(text: str, tree: Condition, features: FeatureSet, locate: Locate | None = None) -> CompiledCondition:
    """Type-check and compile an already parsed condition."""
    where: Locate = locate or (lambda line, column: Location("<condition>", line, column))
    return CompiledCondition(text, tree, features_of(tree), _compile(tree, features, where))
