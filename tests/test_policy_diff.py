"""`discern policy diff`: which decisions a change to a policy changes, and why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from conftest import DATA, ROOT
from typer.testing import CliRunner, Result

from discern_cli.policy import policy_diff
from router import load_policy
from router.policydiff import diff_policies, diff_sampled

app = typer.Typer()
app.command("diff")(policy_diff)
app.command("noop")(lambda: None)
runner = CliRunner()
ENGINE = DATA / "engine" / "policy.yaml"


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["diff", *args])


@pytest.fixture
def changed(tmp_path: Path) -> Path:
    """The engine policy with the matrix's decision capability weighed down."""
    shutil.copytree(DATA / "engine", tmp_path / "engine")
    tool = tmp_path / "engine" / "tools" / "matrix.yaml"
    tool.write_text(tool.read_text().replace("when: goal == decide, weight: 2", "when: goal == decide, weight: 0.5"))
    return tmp_path / "engine" / "policy.yaml"


def test_the_same_policy_changes_nothing() -> None:
    result = invoke(str(ENGINE), str(ENGINE), "--exit-code")
    assert result.exit_code == 0, result.output
    assert "0 of 500 decisions change (500 contexts sampled from the schemas' domain, seed 0)" in result.stdout


def test_a_change_is_reported_with_both_reasons_and_the_clauses_that_differ(changed: Path) -> None:
    result = invoke(str(ENGINE), str(changed), "--exit-code")
    assert result.exit_code == 1
    out = result.stdout
    assert "from" in out and "to" in out and "count" in out
    assert "  old: matrix" in out
    assert "`matrix`: capability `deciding` weighs +0.5 (was +2)" in out


def test_the_moves_table_counts_each_pair(changed: Path) -> None:
    found = diff_sampled(load_policy(ENGINE), load_policy(changed), 400, 3)
    moves = found.moves()
    assert moves and all(a == "matrix" for a, _, _ in moves)
    assert sum(n for _, _, n in moves) == len(found.tool_changes)


def test_the_sample_is_reproducible_and_seeded(changed: Path) -> None:
    old, new = load_policy(ENGINE), load_policy(changed)
    first, again, other = diff_sampled(old, new, 300, 5), diff_sampled(old, new, 300, 5), diff_sampled(old, new, 300, 6)
    assert [c.context for c in first.changes] == [c.context for c in again.changes]
    assert [c.context for c in first.changes] != [c.context for c in other.changes]


def test_contexts_from_a_file(changed: Path, tmp_path: Path) -> None:
    contexts = tmp_path / "contexts.yaml"
    contexts.write_text("- {goal: decide, stakes: high}\n- {goal: cope}\n- {danger: true}\n")
    result = invoke(str(ENGINE), str(changed), "--contexts", str(contexts), "--json")
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["contexts"] == 3 and data["changed"] == 1
    [change] = data["changes"]
    assert change["context"] == {"goal": "decide", "stakes": "high"} and "tool" in change["kinds"]
    assert change["old"]["tool"] == "matrix" and change["new"]["tool"] != "matrix"
    assert change["old"]["reason"] and change["new"]["reason"]
    assert data["moves"] == [{"from": "matrix", "to": change["new"]["tool"], "count": 1}]


def test_contexts_from_a_test_file(changed: Path) -> None:
    tests = ROOT / "docs" / "examples" / "gentle.tests.yaml"
    result = invoke(str(ROOT / "policies" / "default.yaml"), str(ROOT / "docs" / "examples" / "gentle.yaml"),
                    "--contexts", str(tests), "--json")
    data = json.loads(result.stdout)
    assert data["contexts"] == 5
    assert {"from": "mindful-noting", "to": "walk-it-off", "count": 1} in data["moves"]


def test_a_bad_contexts_file_is_located(changed: Path, tmp_path: Path) -> None:
    contexts = tmp_path / "contexts.yaml"
    contexts.write_text("- {goal: decide}\n- {stake: high}\n- {goal: decid}\n- 7\n")
    result = invoke(str(ENGINE), str(changed), "--contexts", str(contexts))
    assert result.exit_code == 2
    err = result.stderr
    assert f"{contexts}:2:4: unknown feature `stake`" in err and "did you mean `stakes`?" in err
    assert f"{contexts}:3:10: unknown level `decid` for feature `goal`" in err
    assert f"{contexts}:4:3: a context must be a mapping" in err


def test_a_feature_only_one_policy_has_is_left_out_for_the_other(tmp_path: Path) -> None:
    shutil.copytree(DATA / "engine", tmp_path / "engine")
    policy = tmp_path / "engine" / "policy.yaml"
    policy.write_text(policy.read_text().replace("  description: {type: text}", "  description: {type: text}\n"
                                                 "  tired: {type: boolean}"))
    found = diff_sampled(load_policy(ENGINE), load_policy(policy), 50, 0)
    assert not found.changes
    assert "features only the new policy has: tired" in found.notes


def test_a_new_tool_lists_what_it_holds() -> None:
    old, new = load_policy(ROOT / "policies" / "default.yaml"), load_policy(ROOT / "docs" / "examples" / "gentle.yaml")
    found = diff_policies(old, new, [{"rumination": True, "emotional_intensity": 5, "goal": "cope", "time_available": 30}])
    [change] = found.changes
    assert change.new.tool == "walk-it-off"
    assert any(line.startswith("`walk-it-off` is new in play; it holds capability `looping-mind` (+4)")
               for line in change.differences)


def test_a_bad_sample_size_is_a_usage_error() -> None:
    result = invoke(str(ENGINE), str(ENGINE), "--sample", "0")
    assert result.exit_code == 2 and "the sample size must be from 1 to" in result.stderr
