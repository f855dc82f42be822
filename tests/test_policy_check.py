"""`discern policy check`: every kind of mistake in a policy or tool file exits 2 with a
located message (`file:line:column: message`) and, where there is advice, a hint."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import DATA
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "engine", tmp_path / "engine")
    return tmp_path / "engine"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def check(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["policy", "check", str(path)], env={"DISCERN_NO_AUDIT": "1"})
    return result.exit_code, result.stderr


def located(stderr: str) -> list[tuple[str, int, int, str]]:
    """(file name, line, column, message) of every located error line."""
    found = []
    for match in re.finditer(r"^(\S+?):(\d+):(\d+): error: (.*)$", stderr, re.MULTILINE):
        found.append((Path(match[1]).name, int(match[2]), int(match[3]), match[4]))
    return found


def hint_after(stderr: str, message: str) -> str | None:
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        if message in line and index + 1 < len(lines) and lines[index + 1].strip().startswith("hint:"):
            return lines[index + 1].strip().removeprefix("hint: ")
    return None


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def column_of(path: Path, needle: str) -> int:
    line = path.read_text().splitlines()[line_of(path, needle) - 1]
    return line.index(needle) + 1


# --- references to tools ----------------------------------------------------------------------

def test_fallback_naming_a_tool_not_in_play(workspace: Path) -> None:
    policy = workspace / "policy.yaml"
    edit(policy, "fallback: talk", "fallback: tak")
    code, err = check(policy)
    assert code == 2
    assert located(err) == [("policy.yaml", line_of(policy, "fallback:"), 11, "fallback `tak` is not a tool in play")]
    assert hint_after(err, "fallback `tak`") == "did you mean `talk`?"


def test_unknown_tool_in_a_forbid_list_points_at_the_list_item(workspace: Path) -> None:
    policy = workspace / "policy.yaml"
    edit(policy, "forbid: gut", "forbid: [gut, matrx]")
    code, err = check(policy)
    assert code == 2
    assert located(err) == [("policy.yaml", line_of(policy, "matrx"), column_of(policy, "matrx"),
                             "rule `no-gut-in-groups` names `matrx`, which is not a tool in play")]
    assert hint_after(err, "matrx") == "did you mean `matrix`?"


def test_unknown_tool_in_a_require(workspace: Path) -> None:
    policy = workspace / "policy.yaml"
    edit(policy, "require: help", "require: hepl")
    code, err = check(policy)
    assert code == 2
    [(name, line, column, _message)] = [e for e in located(err) if "hepl" in e[3]]
    assert (name, line, column) == ("policy.yaml", line_of(policy, "hepl"), column_of(policy, "hepl"))


# --- the shape of rules, clauses and features ---------------------------------------------------

def test_a_rule_with_two_actions(workspace: Path) -> None:
    policy = workspace / "policy.yaml"
    edit(policy, "    forbid: gut\n", "    forbid: gut\n    prefer: talk\n")
    code, err = check(policy)
    assert code == 2
    [(_, line, _, message)] = located(err)
    assert message == "a rule takes exactly one of `require`, `forbid` or `prefer`"
    assert line == line_of(policy, "id: no-gut-in-groups")


def test_duplicate_rule_id(workspace: Path) -> None:
    policy = workspace / "policy.yaml"
    edit(policy, "id: no-gut-in-groups", "id: danger-first")
    code, err = check(policy)
    assert code == 2
    [(_, line, _column, message)] = located(err)
    assert message.startswith("rule id `danger-first` is used twice")
    assert line == line_of(policy, "id: danger-first") + 6


def test_penalty_without_weight(workspace: Path) -> None:
    tool = workspace / "tools" / "talk.yaml"
    edit(tool, "severity: penalty, weight: 1,", "severity: penalty,")
    code, err = check(workspace / "policy.yaml")
    assert code == 2
    [(name, line, _, message)] = located(err)
    assert (name, line, message) == ("talk.yaml", line_of(tool, "id: rush"), "a `penalty` limitation needs a `weight`")


def test_exclusion_with_a_weight(workspace: Path) -> None:
    tool = workspace / "tools" / "gut.yaml"
    edit(tool, "severity: exclude,", "severity: exclude, weight: 2,")
    code, err = check(workspace / "policy.yaml")
    assert code == 2
    [(name, _, _, message)] = located(err)
    assert name == "gut.yaml" and "takes no `weight`" in message


def test_unknown_severity_lists_the_choices(workspace: Path) -> None:
    tool = workspace / "tools" / "gut.yaml"
    edit(tool, "severity: exclude,", "severity: exlude,")
    code, err = check(workspace / "policy.yaml")
    assert code == 2
    [(name, line, column, message)] = located(err)
    assert (name, line, column) == ("gut.yaml", line_of(tool, "exlude"), column_of(tool, "exlude"))
    assert message == "`exlude` is not allowed for `severity`"
    assert "exclude" in (hint_after(err, "exlude") or "")


def test_duplicate_clause_id_in_a_tool(workspace: Path) -> None:
    tool = workspace / "tools" / "breathe.yaml"
    edit(tool, "{id: coping,", "{id: aroused,")
    code, err = check(workspace / "policy.yaml")
    assert code == 2
    [(name, _, _, message)] = located(err)
    assert name == "breathe.yaml" and message == "clause id `aroused` is used twice"


def test_bad_tool_id(workspace: Path) -> None:
    tool = workspace / "tools" / "talk.yaml"
    edit(tool, "id: talk", "id: Talk It")
    code, err = check(workspace / "policy.yaml")
    assert code == 2
    [(name, line, column, _message)] = [e for e in located(err) if "valid id" in e[3]]
    assert (name, line, column) == ("talk.yaml", 1, 5)
    assert hint_after(err, "valid id") == "use lowercase letters, digits, `-` and `_`"


@pytest.mark.parametrize("feature, message", [
    ("stakes: {type: ordinal, levels: [low]}", "a ordinal feature needs at least two `levels`"),
    ("stakes: {type: ordinal, levels: [low, and, high]}", "level `and` is a reserved word"),
    ("stakes: {type: ordinal, levels: [low, low]}", "`levels` repeat a name"),
    ("stakes: {type: number, min: 5, max: 1}", "`min` is larger than `max`"),
    ("stakes: {type: boolean, levels: [a, b]}", "a boolean feature has no `levels`"),
    ("stakes: {type: colour}", "`colour` is not allowed for `type`"),
])
def test_bad_feature_declarations(workspace: Path, feature: str, message: str) -> None:
    policy = workspace / "policy.yaml"
    edit(policy, "stakes: {type: ordinal, levels: [low, moderate, high]}", feature)
    code, err = check(policy)
    assert code == 2
    assert any(m == message and line == line_of(policy, "  stakes:") for _, line, _, m in located(err)), err


def test_unknown_feature_in_audit_settings(workspace: Path) -> None:
    policy = workspace / "policy.yaml"
    policy.write_text(policy.read_text() + "audit: {drop: [stake]}\n")
    code, err = check(policy)
    assert code == 2
    [(_, line, _column, message)] = located(err)
    assert message == "unknown feature `stake` in `audit.drop`" and line == line_of(policy, "audit:")
    assert hint_after(err, "stake") == "did you mean `stakes`?"


# --- conditions -------------------------------------------------------------------------------------

@pytest.mark.parametrize("condition, message, needle, hint", [
    ("goal = decide", "unexpected character `=`", "= decide", "use `==` to compare"),
    ("goal == 'decide'", "unexpected character `'`", "'decide'", "write words without quotes, e.g. `goal == decide`"),
    ("goal >= decide", "`>=` needs an ordered feature; `goal` is a category", "goal >=", None),
    ("stakes", "`stakes` is not true or false; it takes low < moderate < high", "stakes", None),
    ("description == x", "`description` is free text and cannot be compared", "description", None),
    ("options >= many", "`options` is a number, not a level: `many`", "many", None),
    ("group == maybe", "`group` is true or false, not `maybe`", "maybe", None),
    ("goal == decide and", "condition ends too early", None, None),
])
def test_condition_errors_are_located_inside_the_condition(workspace: Path, condition: str, message: str,
                                                           needle: str | None, hint: str | None) -> None:
    tool = workspace / "tools" / "matrix.yaml"
    text = tool.read_text().replace("when: goal == decide,", f'when: "{condition}",', 1)
    tool.write_text(text)
    code, err = check(workspace / "policy.yaml")
    assert code == 2
    [(name, line, column, found)] = located(err)
    assert (name, found) == ("matrix.yaml", message)
    assert line == line_of(tool, condition)
    if needle is not None:
        # inside the quoted scalar: the quote, then the offset of the culprit
        assert column == column_of(tool, f'"{condition}"') + 1 + condition.index(needle)
    if hint is not None:
        assert hint_after(err, message) == hint


# --- whole files --------------------------------------------------------------------------------------

def test_a_policy_that_is_a_list(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("- name: x\n")
    code, err = check(tmp_path / "p.yaml")
    assert code == 2
    assert located(err) == [("p.yaml", 1, 1, "a policy file must be a mapping of fields")]


def test_a_missing_policy_file(tmp_path: Path) -> None:
    code, err = check(tmp_path / "absent.yaml")
    assert code == 2 and "policy file not found" in err and "Traceback" not in err


def test_a_yaml_bomb_is_refused_quickly_at_the_cli(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\nname: bomb\n")
    start = time.perf_counter()
    code, err = check(tmp_path / "bomb.yaml")
    assert code == 2
    assert time.perf_counter() - start < 5
    assert code == 2 and "file expands to too many values" in err and "bomb.yaml:" in err


def test_an_oversized_file_is_refused_at_the_cli(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("name: big\ndescription: '" + "x" * (1024 * 1024 + 10) + "'\n")
    start = time.perf_counter()
    code, err = check(tmp_path / "big.yaml")
    assert code == 2
    assert time.perf_counter() - start < 5
    assert code == 2 and "file is too large" in err and "hint: files are limited to" in err


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "latin.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    code, err = check(tmp_path / "latin.yaml")
    assert code == 2 and "file is not UTF-8 text" in err
