"""Loading policies and tool specs: every mistake reported at once, located in the file
where it is."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from conftest import DATA

from router import SpecError, load_policy
from router.errors import Location


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "engine", tmp_path / "engine")
    return tmp_path / "engine"


def problems_of(path: Path) -> list[tuple[str, int, int, str]]:
    with pytest.raises(SpecError) as caught:
        load_policy(path)
    return [(Path(p.location.file).name if p.location else "", p.location.line if p.location else 0,
             p.location.column if p.location else 0, p.message) for p in caught.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_engine_test_policy_loads(engine_policy: Path) -> None:
    policy = load_policy(engine_policy)
    assert policy.name == "engine-test"
    assert list(policy.tools) == ["matrix", "breathe", "talk", "help", "gut"]
    assert policy.hash.startswith("sha256:")


def test_hash_changes_when_a_tool_changes(workspace: Path) -> None:
    before = load_policy(workspace / "policy.yaml").hash
    edit(workspace / "tools" / "talk.yaml", "weight: 1.5", "weight: 2.5")
    assert load_policy(workspace / "policy.yaml").hash != before


def test_unknown_level_in_a_tool_condition_points_into_the_tool_file(workspace: Path) -> None:
    edit(workspace / "tools" / "matrix.yaml", "stakes >= moderate", "stakes >= moderat")
    [(name, line, column, message)] = problems_of(workspace / "policy.yaml")
    assert (name, line) == ("matrix.yaml", 9)
    assert message == "unknown level `moderat` for feature `stakes`"
    # `- {id: stakes, when: stakes >= moderat, ...`: the level starts at column 39
    assert column == (workspace / "tools" / "matrix.yaml").read_text().splitlines()[8].index("moderat") + 1


def test_every_error_is_reported_at_once(workspace: Path) -> None:
    edit(workspace / "tools" / "matrix.yaml", "goal == decide", "goal == decid")
    edit(workspace / "tools" / "gut.yaml", "when: trauma,", "when: trama,")
    edit(workspace / "policy.yaml", "fallback: talk", "fallback: tallk")
    found = problems_of(workspace / "policy.yaml")
    assert {f[0] for f in found} == {"matrix.yaml", "gut.yaml", "policy.yaml"}
    assert any("fallback `tallk` is not a tool in play" in f[3] for f in found)


def test_unknown_field_is_located_with_a_suggestion(workspace: Path) -> None:
    edit(workspace / "tools" / "talk.yaml", "summary:", "sumary:")
    with pytest.raises(SpecError) as caught:
        load_policy(workspace / "policy.yaml")
    messages = {(p.message, p.hint) for p in caught.value.problems}
    assert ("unknown field `sumary`", "did you mean `summary`?") in messages
    assert any(p.message == "missing field `summary`" for p in caught.value.problems)


def test_wrong_type_is_located(workspace: Path) -> None:
    edit(workspace / "tools" / "talk.yaml", "weight: 1.5", "weight: lots")
    [(name, line, column, message)] = problems_of(workspace / "policy.yaml")
    assert (name, line) == ("talk.yaml", 7)
    assert "weight" in message and "number" in message


def test_duplicate_key_is_an_error(workspace: Path) -> None:
    edit(workspace / "policy.yaml", "version: \"1\"", "version: \"1\"\nversion: \"2\"")
    [(name, line, column, message)] = problems_of(workspace / "policy.yaml")
    assert (name, line, column) == ("policy.yaml", 3, 1)
    assert message.startswith("duplicate key `version`")


def test_tab_indentation_is_an_error(workspace: Path) -> None:
    edit(workspace / "policy.yaml", "  goal:", "\tgoal:")
    found = problems_of(workspace / "policy.yaml")
    assert ("policy.yaml", 4, 1, "tab used for indentation") in found


def test_yaml_syntax_error_is_located(workspace: Path) -> None:
    edit(workspace / "policy.yaml", "fallback: talk", "fallback: [talk")
    [(name, line, column, message)] = problems_of(workspace / "policy.yaml")
    assert name == "policy.yaml" and line >= 27 and message.startswith("yaml:")


def test_rule_naming_a_tool_not_in_play(workspace: Path) -> None:
    edit(workspace / "policy.yaml", "forbid: gut", "forbid: gutt")
    [(name, line, column, message)] = problems_of(workspace / "policy.yaml")
    assert (name, line, column) == ("policy.yaml", 28, 13)
    assert message == "rule `no-gut-in-groups` names `gutt`, which is not a tool in play"


def test_missing_tool_file(workspace: Path) -> None:
    edit(workspace / "policy.yaml", "tools/gut.yaml", "tools/nothing.yaml")
    found = problems_of(workspace / "policy.yaml")
    assert ("policy.yaml", 18, 5, "tool file not found: `tools/nothing.yaml`") in found


def test_circular_extends(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("name: b\nextends: a.yaml\n")
    [(name, line, column, message)] = problems_of(tmp_path / "a.yaml")
    assert (line, column) == (2, 10) and "`extends` makes a cycle" in message


def test_missing_extends(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nextends: nowhere.yaml\n")
    [(name, line, column, message)] = problems_of(tmp_path / "a.yaml")
    assert (name, line, column) == ("a.yaml", 2, 10) and "not there" in message


def test_extends_adds_tools_and_appends_rules(workspace: Path) -> None:
    (workspace / "child.yaml").write_text(
        "name: child\nversion: '2'\nextends: policy.yaml\n"
        "rules:\n  - id: tired-talk\n    when: goal == cope\n    prefer: talk\n    reason: talk first\n"
        "thresholds: {min_score: 1, min_margin: 0}\n")
    child = load_policy(workspace / "child.yaml")
    assert [r.id for r in child.rules] == ["danger-first", "no-gut-in-groups", "tired-talk"]
    assert len(child.tools) == 5 and child.min_score == 1 and child.fallback == "talk"


def test_locked_rule_tool_cannot_be_forbidden(workspace: Path) -> None:
    (workspace / "child.yaml").write_text(
        "name: child\nextends: policy.yaml\n"
        "rules:\n  - id: no-help\n    when: goal == cope\n    forbid: help\n    reason: never\n")
    [(name, line, column, message)] = problems_of(workspace / "child.yaml")
    assert name == "child.yaml" and "locked rule `danger-first`" in message


def test_yaml_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\nname: bomb\n")
    start = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        load_policy(tmp_path / "bomb.yaml")
    assert time.perf_counter() - start < 5
    assert "too many values" in caught.value.message


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("name: big\ndescription: '" + "x" * (1024 * 1024 + 10) + "'\n")
    with pytest.raises(SpecError) as caught:
        load_policy(tmp_path / "big.yaml")
    assert "too large" in caught.value.message


def test_nothing_in_a_file_is_executed(tmp_path: Path) -> None:
    (tmp_path / "evil.yaml").write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(SpecError) as caught:
        load_policy(tmp_path / "evil.yaml")
    assert caught.value.location is not None and caught.value.location.line == 1


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_policy(tmp_path / "absent.yaml")
    assert caught.value.location == Location(str(tmp_path / "absent.yaml"))


def test_load_cache_gives_the_same_policy_and_the_same_located_errors(workspace: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCERN_CACHE_DIR", str(tmp_path / "cache"))
    cold = load_policy(workspace / "policy.yaml")
    assert len(list((tmp_path / "cache").glob("load-*.json"))) == 1
    warm = load_policy(workspace / "policy.yaml")
    assert warm.hash == cold.hash and list(warm.tools) == list(cold.tools)
    assert [c.location for c in warm.tools["matrix"].clauses] == [c.location for c in cold.tools["matrix"].clauses]
    edit(workspace / "tools" / "talk.yaml", "weight: 1.5", "weight: lots")
    first = problems_of(workspace / "policy.yaml")
    again = problems_of(workspace / "policy.yaml")
    assert first == again and first[0][:2] == ("talk.yaml", 7)


def test_a_damaged_cache_is_ignored(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCERN_CACHE_DIR", str(tmp_path))
    load_policy(workspace / "policy.yaml")
    [cache] = list(tmp_path.glob("load-*.json"))
    cache.write_text('{"format": 1, "version": "x", "docs": [1, 2')
    assert load_policy(workspace / "policy.yaml").name == "engine-test"
    cache.write_text(cache.read_text()[:0] + '{"format": 1, "version": "' + "0" + '", "docs": {"k": {"data": 1}}}')
    assert load_policy(workspace / "policy.yaml").name == "engine-test"


def test_a_policy_with_no_tools_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("name: x\nversion: '1'\nfeatures: {}\ntools: []\n")
    [(name, line, column, message)] = problems_of(tmp_path / "empty.yaml")
    assert (name, line, message) == ("empty.yaml", 4, "no tools in play")
