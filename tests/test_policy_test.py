"""`discern policy test`: cases in YAML, reported like pytest; malformed files located."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from conftest import DATA, ROOT
from typer.testing import CliRunner, Result

from discern_cli.policy import policy_diff, policy_lint, policy_test
from router import SpecError, load_policy
from router.policytest import coverage, default_tests_path, load_suite, run_suite

app = typer.Typer()
app.command("test")(policy_test)
app.command("lint")(policy_lint)
app.command("diff")(policy_diff)
runner = CliRunner()
ENGINE = DATA / "engine" / "policy.yaml"


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["test", *args], env={"DISCERN_NO_AUDIT": "1", "DISCERN_POLICY": None})


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


ENGINE_CASES = f"""policy: {ENGINE}
cases:
  - name: danger goes to help
    context: {{danger: true, goal: decide}}
    tool: help
    fires: danger-first
    robust: true
  - name: a choice with many options is scored
    context: {{goal: decide, options: 4, stakes: high, time_available: 60}}
    tool: matrix
    not: [gut]
"""


def test_the_shipped_default_tests_pass_with_no_path() -> None:
    result = invoke()
    assert result.exit_code == 0, result.output
    first, *_, last = result.stdout.strip().splitlines()
    assert first.startswith("policies/default.tests.yaml .") or "default.tests.yaml ." in first
    assert re.fullmatch(r"\d+ passed in \d+\.\d\ds", last)
    assert int(last.split()[0]) >= 25


def test_passing_cases_print_dots_and_a_summary(tmp_path: Path) -> None:
    file = write(tmp_path / "engine.tests.yaml", ENGINE_CASES)
    result = invoke(str(file))
    assert result.exit_code == 0, result.output
    assert " .. " in result.stdout + " " and "[engine-test 1]" in result.stdout
    assert re.search(r"^2 passed in \d+\.\d\ds$", result.stdout, re.MULTILINE)


def test_a_failing_case_prints_F_the_explanation_and_exits_1(tmp_path: Path) -> None:
    file = write(tmp_path / "engine.tests.yaml", ENGINE_CASES + """  - name: breathing when hot
    context: {goal: decide, options: 4, stakes: high, time_available: 60}
    tool: breathe
    confident: false
""")
    result = invoke(str(file))
    assert result.exit_code == 1
    out = result.stdout
    assert "..F" in out and "FAILURES" in out and "___ breathing when hot ___" in out
    assert f"{file}:12:5: case `breathing when hot`" in out
    assert "expected tool `breathe`, got `matrix`" in out
    assert "expected confident: false, got true" in out
    assert "Recommended: matrix" in out and "Why: highest score" in out  # the decision's explanation
    assert re.search(r"^2 passed, 1 failed in \d+\.\d\ds$", out, re.MULTILINE)


def test_not_robust_and_fires_failures_say_what_happened(tmp_path: Path) -> None:
    file = write(tmp_path / "engine.tests.yaml", f"""policy: {ENGINE}
cases:
  - name: wrong on every count
    context: {{goal: cope}}
    not: [talk]
    robust: true
    fires: [danger-first]
""")
    out = invoke(str(file)).stdout
    assert "`talk` was recommended, but the case says `not` to it" in out
    assert "expected robust: true, got false (could change with:" in out
    assert "expected rule `danger-first` to fire; fired: none" in out


def test_a_folder_runs_every_tests_file(tmp_path: Path) -> None:
    write(tmp_path / "a.tests.yaml", ENGINE_CASES)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "b.tests.yaml", ENGINE_CASES)
    write(tmp_path / "ignored.yaml", "not: a test file")
    result = invoke(str(tmp_path))
    assert result.exit_code == 0
    assert "a.tests.yaml .." in result.stdout and "b.tests.yaml .." in result.stdout
    assert "4 passed" in result.stdout


def test_an_empty_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(str(tmp_path))
    assert result.exit_code == 2 and "no `*.tests.yaml` files" in result.stderr


def test_policy_option_applies_to_files_that_name_none(tmp_path: Path) -> None:
    file = write(tmp_path / "x.tests.yaml", "\n".join(ENGINE_CASES.splitlines()[1:]) + "\n")
    assert invoke(str(file)).exit_code == 2  # the default policy has no feature `danger`
    result = invoke(str(file), "--policy", str(ENGINE))
    assert result.exit_code == 0, result.output


def test_a_policy_path_is_relative_to_the_test_file(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "engine").symlink_to(ENGINE.parent)
    file = write(tmp_path / "tests" / "t.tests.yaml", ENGINE_CASES.replace(str(ENGINE), "../engine/policy.yaml", 1))
    assert invoke(str(file)).exit_code == 0
    # a policy that is not there is located at the `policy` key
    file.write_text(ENGINE_CASES.replace(str(ENGINE), "../nowhere.yaml", 1))
    result = invoke(str(file))
    assert result.exit_code == 2 and f"{file}:1:9: policy not found: `../nowhere.yaml`" in result.stderr


@pytest.mark.parametrize("case, message, line, column", [
    ("    context: {stake: high}\n    tool: help\n", "unknown feature `stake`", 4, 15),
    ("    context: {stakes: hgh}\n    tool: help\n", "unknown level `hgh` for feature `stakes`", 4, 23),
    ("    context: {options: many}\n    tool: help\n", "value `many` for `options` has the wrong type", 4, 24),
    ("    context: {goal: cope}\n    tool: halp\n", "unknown tool `halp`", 5, 11),
    ("    context: {goal: cope}\n    not: [talk, gutt]\n", "unknown tool `gutt`", 5, 17),
    ("    context: {goal: cope}\n    fires: [danger-frist]\n", "unknown rule `danger-frist`", 5, 13),
    ("    context: {goal: cope}\n", "a case needs at least one of `tool`, `not`, `confident`, `robust` or `fires`", 3, 5),
    ("    context: {goal: cope}\n    tol: help\n", "unknown field `tol`", 5, 5),
    ("    context: {goal: cope}\n    confident: maybe\n", "`confident`: input should be a valid boolean", 5, 16),
])
def test_a_malformed_case_is_located(tmp_path: Path, case: str, message: str, line: int, column: int) -> None:
    file = write(tmp_path / "bad.tests.yaml", f"policy: {ENGINE}\ncases:\n  - name: a case\n{case}")
    result = invoke(str(file))
    assert result.exit_code == 2
    assert f"{file}:{line}:{column}: {message}" in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_hints_suggest_the_nearest_name(tmp_path: Path) -> None:
    file = write(tmp_path / "bad.tests.yaml", f"policy: {ENGINE}\ncases:\n  - name: a\n    context: {{}}\n"
                 "    tool: halp\n")
    assert "hint: did you mean `help`?" in invoke(str(file)).stderr


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path / "a.tests.yaml", f"policy: {ENGINE}\ncases:\n  - name: a\n    context: {{stake: high}}\n    tool: x\n")
    write(tmp_path / "b.tests.yaml", f"policy: {ENGINE}\ncases: []\n")
    result = invoke(str(tmp_path))
    assert result.exit_code == 2
    assert "unknown feature `stake`" in result.stderr and "unknown tool `x`" in result.stderr
    assert "b.tests.yaml:2:8:" in result.stderr


def test_duplicate_case_names_and_yaml_errors(tmp_path: Path) -> None:
    file = write(tmp_path / "dup.tests.yaml", f"policy: {ENGINE}\ncases:\n  - {{name: a, tool: help}}\n"
                 "  - {name: a, tool: help}\n")
    assert f"{file}:4:12: case name `a` is used twice (first at line 3)" in invoke(str(file)).stderr
    broken = write(tmp_path / "broken.tests.yaml", "cases:\n  - name: [a\n")
    result = invoke(str(broken))
    assert result.exit_code == 2 and f"{broken}:" in result.stderr and "yaml:" in result.stderr


def test_coverage_lists_exercised_and_missed_clauses_per_tool(tmp_path: Path) -> None:
    file = write(tmp_path / "engine.tests.yaml", ENGINE_CASES)
    result = invoke(str(file), "--coverage")
    assert result.exit_code == 0
    out = result.stdout
    assert "help: " in out and "exercised: capability danger, rule danger-first" in out
    assert "gut: " in out and "rule no-gut-in-groups" in out.split("gut: ", 1)[1].split("\n\n")[0]
    assert re.search(r"^\d+/\d+ clauses and rules exercised \(\d+%\)$", out, re.MULTILINE)


def test_coverage_counts_a_clause_that_held(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path / "e.tests.yaml", ENGINE_CASES))
    result = run_suite(suite)
    items = {(i.tool, i.kind, i.id): i.exercised for i in coverage(suite.policy, [r.checked for r in result.results])}
    assert items[("matrix", "capability", "many-options")] is True
    assert items[("breathe", "capability", "aroused")] is False
    assert items[("gut", "rule", "no-gut-in-groups")] is False


def test_json_output(tmp_path: Path) -> None:
    file = write(tmp_path / "engine.tests.yaml", ENGINE_CASES)
    result = invoke(str(file), "--json", "--coverage")
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["passed"] == 2 and data["failed"] == 0
    assert data["files"][0]["cases"][0]["tool"] == "help"
    assert any(item["id"] == "danger" and item["exercised"] for item in data["coverage"])


def test_the_shipped_test_file_sits_next_to_the_default_policy() -> None:
    assert default_tests_path() == ROOT / "policies" / "default.tests.yaml"
    suite = load_suite(default_tests_path())
    names = [c.name for c in suite.spec.cases]
    assert len(names) >= 25
    whys = " ".join(c.why or "" for c in suite.spec.cases)
    for principle in ("P01", "P02", "P03", "P04", "P05", "P06", "P07", "P14"):
        assert principle in whys
    assert all(r.passed for r in run_suite(suite).results)


def test_the_default_tests_run_against_a_policy_extending_the_default() -> None:
    result = invoke(str(default_tests_path()), "--policy", str(ROOT / "docs" / "examples" / "gentle.yaml"))
    assert result.exit_code == 0, result.stdout
    assert "[gentle 1]" in result.stdout


def test_help_has_an_example_and_the_exit_codes() -> None:
    for command in ("test", "lint", "diff"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Example: discern policy" in result.stdout and "Exit codes" in result.stdout


def test_a_policy_that_fails_to_load_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "p.yaml", "name: p\nfallback: nothing\n")
    file = write(tmp_path / "t.tests.yaml", "policy: p.yaml\ncases:\n  - {name: a, tool: x}\n")
    result = invoke(str(file))
    assert result.exit_code == 2 and "p.yaml:2:11: fallback `nothing` is not a tool in play" in result.stderr
    assert load_policy  # the library is what the command runs


def test_a_misspelt_case_key_is_named_as_written_in_files(tmp_path: Path) -> None:
    from router.policytest import load_suite as load_test_suite

    path = tmp_path / "a.tests.yaml"
    path.write_text("cases:\n  - name: x\n    context: {goal: cope}\n    not_: [grounding]\n")
    with pytest.raises(SpecError) as caught:
        load_test_suite(path)
    [problem] = caught.value.problems
    assert problem.message == "unknown field `not_`" and problem.hint == "did you mean `not`?"
