"""Belief-system and mapping files: loading, validation, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.beliefs import BeliefSystem, Mapping, compare, json_schemas, load_belief_system, load_mapping
from router.errors import SpecError

DATA = Path(__file__).parent / "data" / "beliefs"
SHIPPED = Path(__file__).parent.parent / "beliefs"


@pytest.mark.parametrize("name", ["stoicism", "buddhism", "rationalism"])
def test_shipped_systems_load_and_are_documented(name: str) -> None:
    s = load_belief_system(SHIPPED / f"{name}.yaml")
    assert 12 <= s.n <= 20
    assert s.sources
    assert "toy reading" in (s.description or "")
    assert all(e.why for e in s.edges)


@pytest.mark.parametrize("other", ["buddhism", "rationalism"])
def test_shipped_mappings_load(other: str) -> None:
    a = load_belief_system(SHIPPED / "stoicism.yaml")
    b = load_belief_system(SHIPPED / f"{other}.yaml")
    m = load_mapping(SHIPPED / f"stoicism-{other}.yaml", a, b)
    assert len(m) >= 10


def test_small_system_fields() -> None:
    s = load_belief_system(DATA / "small_a.yaml")
    assert s.ids == ["p", "e", "act", "bad", "s"]
    assert s.matrix()[s.index("act"), s.index("s")] == pytest.approx(0.7)
    assert s.confidence()[s.index("act"), s.index("s")] == pytest.approx(0.9)
    assert s.confidence()[s.index("p"), s.index("act")] == 1.0


def _error(path: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_belief_system(path)
    return info.value


def test_unknown_concept_is_located_with_hint() -> None:
    err = _error(DATA / "unknown_concept.yaml")
    assert "unknown concept `clam`" in err.message
    assert err.location is not None and (err.location.line, err.location.column) == (6, 19)
    assert err.hint == "did you mean `calm`?"


def test_value_out_of_range_is_located() -> None:
    err = _error(DATA / "out_of_range.yaml")
    assert err.location is not None and err.location.line == 5
    assert "value" in err.message


def test_malformed_yaml_is_located() -> None:
    err = _error(DATA / "malformed.yaml")
    assert err.location is not None and err.location.line >= 3
    assert err.message.startswith("yaml:")


def test_unknown_field_is_rejected() -> None:
    err = _error(DATA / "unknown_field.yaml")
    assert "unknown field `colour`" in err.message
    assert err.location is not None and err.location.line == 3


def test_bad_kind_gets_hint() -> None:
    with pytest.raises(SpecError) as info:
        BeliefSystem.from_dict({"name": "x", "concepts": [{"id": "a", "kind": "princple", "value": 0}]})
    assert "`principle`" in (info.value.hint or "")


def test_string_value_is_not_coerced() -> None:
    with pytest.raises(SpecError):
        BeliefSystem.from_dict({"name": "x", "concepts": [{"id": "a", "kind": "state", "value": "0.5"}]})


def test_duplicate_concept_and_self_loop() -> None:
    with pytest.raises(SpecError) as info:
        BeliefSystem.create("x", [("a", "state", 0), ("a", "state", 0)], [("a", "a", 0.5)])
    messages = " ".join(p.message for p in info.value.problems)
    assert "declared twice" in messages and "cannot cause itself" in messages


def test_mapping_not_one_to_one() -> None:
    a = load_belief_system(DATA / "small_a.yaml")
    with pytest.raises(SpecError) as info:
        load_mapping(DATA / "map_twice.yaml", a, a)
    err = info.value
    assert "mapped twice" in err.message
    assert err.location is not None and (err.location.line, err.location.column) == (3, 17)


def test_mapping_missing_concept() -> None:
    a = load_belief_system(DATA / "small_a.yaml")
    with pytest.raises(SpecError) as info:
        load_mapping(DATA / "map_missing.yaml", a, a)
    assert "`principle` is not a concept of `small-a`" in info.value.message
    assert info.value.location is not None and info.value.location.line == 2


def test_mapping_names_checked() -> None:
    a = load_belief_system(DATA / "small_a.yaml")
    with pytest.raises(SpecError) as info:
        load_mapping(DATA / "map_wrong_name.yaml", a, a)
    assert "mapping is from `other`" in info.value.message


def test_no_edges_is_a_clear_error() -> None:
    a = load_belief_system(DATA / "small_a.yaml")
    b = load_belief_system(DATA / "no_edges.yaml")
    with pytest.raises(SpecError, match="no causal edges"):
        compare(a, b, null=3, draws=0)


def test_empty_mapping_is_a_clear_error() -> None:
    a = load_belief_system(DATA / "small_a.yaml")
    m = load_mapping(DATA / "map_empty.yaml", a, a)
    with pytest.raises(SpecError, match="pairs no concepts"):
        compare(a, a, m, null=3, draws=0)


def test_schema_has_both_kinds() -> None:
    s = json_schemas()
    assert "concepts" in s["belief_system"]["properties"]
    assert "pairs" in s["mapping"]["properties"]
    assert "from" in s["mapping"]["properties"]


def test_mapping_create_and_check() -> None:
    a = load_belief_system(DATA / "small_a.yaml")
    m = Mapping.create([("p", "p"), ("s", "s")]).check(a, a)
    assert m.as_indices(a, a) == [(0, 0), (4, 4)]


def test_a_system_too_large_to_compare_is_refused_up_front(tmp_path: Path) -> None:
    import yaml

    from router.beliefs.model import MAX_CONCEPTS

    concepts = [{"id": f"c{i}", "kind": "state", "value": 0.1} for i in range(MAX_CONCEPTS + 1)]
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump({"name": "big", "concepts": concepts, "causal": [{"from": "c0", "to": "c1", "w": 0.5}]}))
    with pytest.raises(SpecError) as caught:
        load_belief_system(path)
    assert f"at most {MAX_CONCEPTS}" in caught.value.message and caught.value.location is not None
