"""The condition language: parsing, every error kind with its location, three-valued
logic, ordinal order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.conditions import Compare, Flag, Junction, Member, Not, compile_condition, parse, unparse
from router.errors import ConditionError, Location
from router.features import Feature, FeatureSet

FEATURES = FeatureSet({
    "goal": Feature("goal", "category", ("decide", "plan", "cope")),
    "stakes": Feature("stakes", "ordinal", ("trivial", "low", "moderate", "high", "critical")),
    "time_available": Feature("time_available", "number", minimum=0),
    "options": Feature("options", "integer", minimum=0),
    "fatigue": Feature("fatigue", "boolean"),
    "rumination": Feature("rumination", "boolean"),
    "order": Feature("order", "boolean"),
    "description": Feature("description", "text"),
})


def check(text: str, context: dict[str, object]) -> object:
    return compile_condition(text, FEATURES).test(FEATURES.check_context(context))


def error_of(text: str) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        compile_condition(text, FEATURES)
    return caught.value


# --- parsing -------------------------------------------------------------------------------

def test_parses_comparison_membership_flags_and_combinators() -> None:
    tree = parse("goal in [decide, plan] and not fatigue or (stakes >= high)")
    assert isinstance(tree, Junction) and tree.op == "or"
    left, right = tree.operands
    assert isinstance(left, Junction) and left.op == "and"
    assert isinstance(left.operands[0], Member) and isinstance(left.operands[1], Not)
    assert isinstance(right, Compare) and right.op == ">="


def test_and_binds_tighter_than_or() -> None:
    tree = parse("fatigue or rumination and order")
    assert isinstance(tree, Junction) and tree.op == "or"
    assert isinstance(tree.operands[1], Junction) and tree.operands[1].op == "and"


def test_keyword_prefixes_are_names() -> None:
    assert parse("order") == Flag(1, 1, "order")


def test_not_in_membership() -> None:
    tree = parse("goal not in [cope]")
    assert isinstance(tree, Member) and tree.negated


# --- errors with locations ---------------------------------------------------------------------

@pytest.mark.parametrize("text, message, column", [
    ("stakes >= hgh", "unknown level `hgh` for feature `stakes`", 11),
    ("stakess >= high", "unknown feature `stakess`", 1),
    ("goal >= decide", "needs an ordered feature", 1),
    ("stakes", "is not true or false", 1),
    ("time_available >= soon", "is a number, not a level", 19),
    ("fatigue == maybe", "is true or false, not `maybe`", 12),
    ("description == x", "free text", 1),
    ("fatigue in [true]", "needs a feature with levels", 1),
    ("stakes = high", "unexpected character `=`", 8),
    ("stakes >=", "condition ends too early", 10),
    ("fatigue and and order", "unexpected `and`", 13),
    ("(fatigue", "condition ends too early", 9),
    ("stakes >= 3", "not the number `3`", 11),
])
def test_every_error_kind_is_located(text: str, message: str, column: int) -> None:
    error = error_of(text)
    assert message in error.message
    assert error.location == Location("<condition>", 1, column)


def test_unknown_level_suggests_the_nearest() -> None:
    assert error_of("stakes >= hgh").hint == "did you mean `high`?"


def test_empty_condition_is_an_error() -> None:
    assert "empty condition" in error_of("   ").message


def test_error_location_follows_the_given_offset() -> None:
    def locate(line: int, column: int) -> Location:
        return Location("tools/x.yaml", 7 + line - 1, 10 + column - 1)

    with pytest.raises(ConditionError) as caught:
        compile_condition("goal == decide and stakes >= hgh", FEATURES, locate)
    assert caught.value.location == Location("tools/x.yaml", 7, 39)  # `hgh` starts at column 30


# --- three-valued evaluation --------------------------------------------------------------------

def test_missing_feature_makes_condition_unknown() -> None:
    assert check("stakes >= high", {}) is None


def test_false_and_unknown_is_false() -> None:
    assert check("goal == decide and stakes >= high", {"goal": "cope"}) is False


def test_true_or_unknown_is_true() -> None:
    assert check("goal == decide or stakes >= high", {"goal": "decide"}) is True


def test_not_unknown_is_unknown() -> None:
    assert check("not fatigue", {}) is None


def test_true_and_unknown_is_unknown() -> None:
    assert check("goal == decide and stakes >= high", {"goal": "decide"}) is None


def test_ordinal_levels_compare_by_order_not_alphabet() -> None:
    # alphabetically "critical" < "high"; by order it is above
    assert check("stakes >= high", {"stakes": "critical"}) is True
    assert check("stakes > moderate", {"stakes": "low"}) is False
    assert check("stakes < moderate", {"stakes": "low"}) is True


def test_numbers_booleans_and_categories() -> None:
    assert check("time_available <= 5", {"time_available": 5}) is True
    assert check("options >= 3", {"options": 2}) is False
    assert check("fatigue == false", {"fatigue": False}) is True
    assert check("goal != cope", {"goal": "plan"}) is True
    assert check("goal in [decide, plan]", {"goal": "cope"}) is False
    assert check("stakes in [high, critical]", {"stakes": "critical"}) is True


def test_features_read_by_a_condition() -> None:
    compiled = compile_condition("goal == decide and (fatigue or stakes >= high)", FEATURES)
    assert compiled.features == {"goal", "fatigue", "stakes"}


# --- properties -------------------------------------------------------------------------------------

LEVELS = {"goal": ["decide", "plan", "cope"], "stakes": ["trivial", "low", "moderate", "high", "critical"]}
BOOLEANS = ["fatigue", "rumination", "order"]


def atoms() -> st.SearchStrategy[str]:
    level = st.sampled_from(list(LEVELS)).flatmap(
        lambda f: st.tuples(st.just(f), st.sampled_from(["==", "!="] + ([">=", "<", ">", "<="] if f == "stakes" else [])),
                            st.sampled_from(LEVELS[f])).map(lambda t: f"{t[0]} {t[1]} {t[2]}"))
    flag = st.sampled_from(BOOLEANS)
    number = st.tuples(st.sampled_from([">=", "<=", "==", ">"]), st.integers(0, 100)).map(
        lambda t: f"time_available {t[0]} {t[1]}")
    return st.one_of(level, flag, number)


conditions = st.recursive(
    atoms(),
    lambda inner: st.one_of(
        inner.map(lambda c: f"not ({c})"),
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(conditions)
def test_printing_then_parsing_roundtrips(text: str) -> None:
    tree = parse(text)
    assert parse(unparse(tree)) == tree


contexts = st.fixed_dictionaries({}, optional={
    "goal": st.sampled_from(LEVELS["goal"]), "stakes": st.sampled_from(LEVELS["stakes"]),
    "fatigue": st.booleans(), "rumination": st.booleans(), "order": st.booleans(),
    "time_available": st.integers(0, 100),
})


@settings(max_examples=200, deadline=None)
@given(conditions, contexts, st.data())
def test_unknown_is_consistent_with_every_completion(text: str, context: dict[str, object], data: st.DataObject) -> None:
    """Kleene logic: a known answer never changes when the missing features are filled in."""
    compiled = compile_condition(text, FEATURES)
    partial = compiled.test(FEATURES.check_context(context))
    filled = dict(context)
    for name in compiled.features - set(context):
        if name in LEVELS:
            filled[name] = data.draw(st.sampled_from(LEVELS[name]))
        elif name == "time_available":
            filled[name] = data.draw(st.integers(0, 100))
        else:
            filled[name] = data.draw(st.booleans())
    full = compiled.test(FEATURES.check_context(filled))
    assert full in (True, False)
    if partial is not None:
        assert partial == full


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_parses_or_raises_a_located_condition_error(text: str) -> None:
    try:
        compile_condition(text, FEATURES)
    except ConditionError as error:
        assert error.location is not None and error.location.line >= 1


def test_every_mistake_in_a_condition_is_reported_at_once() -> None:
    error = error_of("stakes >= hgh and (goal == decid or fatigue)")
    assert [(p.message, p.location.column if p.location else 0) for p in error.problems] == [
        ("unknown level `hgh` for feature `stakes`", 11),
        ("unknown level `decid` for feature `goal`", 28),
    ]
