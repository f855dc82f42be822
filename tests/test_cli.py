"""The command line, through typer's runner and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT
from typer.testing import CliRunner

from cli import app

runner = CliRunner()
POLICY = str(DATA / "engine" / "policy.yaml")


def invoke(*args: str, input: str | None = None) -> object:
    return runner.invoke(app, list(args), input=input, env={"DISCERN_NO_AUDIT": "1", "DISCERN_POLICY": POLICY})


def test_route_json_has_the_contract_keys() -> None:
    result = invoke("route", "--set", "goal=decide", "--set", "options=4", "--json")
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["tool"] == "matrix" and d["version"] == 1
    for key in ("confident", "robust", "unknowns", "rules_fired", "ranking", "policy", "inferred", "decision_id"):
        assert key in d
    assert d["policy"]["name"] == "engine-test"


def test_route_reads_a_context_file(tmp_path: Path) -> None:
    context = tmp_path / "c.yaml"
    context.write_text("goal: cope\nemotional_intensity: 9\n")
    result = invoke("route", "--context", str(context), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["tool"] == "breathe"


def test_route_reads_json_from_standard_input() -> None:
    result = invoke("route", "--context", "-", "--json", input='{"danger": true}')
    assert result.exit_code == 0 and json.loads(result.stdout)["tool"] == "help"


def test_set_wins_over_the_context_file(tmp_path: Path) -> None:
    context = tmp_path / "c.json"
    context.write_text('{"goal": "cope", "emotional_intensity": 9}')
    result = invoke("route", "--context", str(context), "--set", "danger=true", "--json")
    assert json.loads(result.stdout)["tool"] == "help"


def test_route_for_people_explains() -> None:
    result = invoke("route", "--set", "goal=decide", "--set", "options=4")
    assert result.exit_code == 0
    assert "Decision matrix" in result.stdout and "Runner-up" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--set", "stake=high"], "unknown feature `stake`"),
    (["--set", "stakes=hgh"], "unknown level `hgh` for feature `stakes`"),
    (["--set", "options=many"], "value `many` for `options` has the wrong type"),
    (["--set", "emotional_intensity=12"], "value `12` for `emotional_intensity` is out of range"),
    (["--set", "goal"], "`goal` is not of the form feature=value"),
])
def test_bad_context_exits_2_with_one_clear_message(args: list[str], message: str) -> None:
    result = invoke("route", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output + result.stderr


def test_bad_context_file_is_located(tmp_path: Path) -> None:
    context = tmp_path / "c.yaml"
    context.write_text("goal: cope\nstakes: hgh\n")
    result = invoke("route", "--context", str(context))
    assert result.exit_code == 2
    assert f"{context}:2:9: unknown level `hgh` for feature `stakes`" in result.stderr


def test_malformed_context_file_is_located(tmp_path: Path) -> None:
    context = tmp_path / "c.yaml"
    context.write_text("goal: [cope\n")
    result = invoke("route", "--context", str(context))
    assert result.exit_code == 2 and str(context) + ":2:1: yaml:" in result.stderr


def test_missing_context_file() -> None:
    result = invoke("route", "--context", "/nonexistent/c.yaml")
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_bad_policy_exits_2(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("name: x\nfeatures:\n  a: {type: ordinal, levels: [low]}\n")
    result = runner.invoke(app, ["route", "--no-audit", "--policy", str(policy)])
    assert result.exit_code == 2 and "p.yaml:3:6" in result.stderr


def test_tools_list_and_show() -> None:
    listed = invoke("tools", "list", "--json")
    assert listed.exit_code == 0
    assert [t["id"] for t in json.loads(listed.stdout)["tools"]] == ["matrix", "breathe", "talk", "help", "gut"]
    shown = invoke("tools", "show", "matrix")
    assert shown.exit_code == 0 and "Where it fails" in shown.stdout
    unknown = invoke("tools", "show", "matrx")
    assert unknown.exit_code == 2 and "did you mean `matrix`?" in unknown.stderr


def test_policy_check_ok_and_broken(tmp_path: Path) -> None:
    assert invoke("policy", "check", POLICY).exit_code == 0
    broken = tmp_path / "p.yaml"
    broken.write_text((DATA / "engine" / "policy.yaml").read_text().replace("fallback: talk", "fallback: tallk")
                      .replace("tools/", str(DATA / "engine" / "tools") + "/"))
    result = invoke("policy", "check", str(broken))
    assert result.exit_code == 2 and "fallback `tallk` is not a tool in play" in result.stderr


def test_policy_schema_prints_json_schemas() -> None:
    result = invoke("policy", "schema")
    schemas = json.loads(result.stdout)
    assert set(schemas) >= {"tool", "policy", "tests", "vignettes", "context"}
    assert schemas["context"]["properties"]["stakes"]["enum"] == ["low", "moderate", "high"]
    assert schemas["context"]["properties"]["emotional_intensity"]["maximum"] == 10
    assert "not" in schemas["tests"]["$defs"]["PolicyCase"]["properties"]
    assert "capabilities" in schemas["tool"]["properties"]
    assert schemas["policy"]["additionalProperties"] is False


def test_version_and_help_list_exit_codes() -> None:
    assert invoke("--version").stdout.startswith("discern ")
    assert "Exit codes" in invoke("--help").stdout


def run_discern(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "DISCERN_NO_AUDIT": "1", **(env or {})}, timeout=120)


def test_real_subprocess_route_json(tmp_path: Path) -> None:
    done = run_discern("route", "--policy", POLICY, "--set", "danger=true", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tool"] == "help"


def test_real_subprocess_user_error_has_no_traceback(tmp_path: Path) -> None:
    done = run_discern("route", "--policy", POLICY, "--set", "stakes=hgh", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "unknown level `hgh`" in done.stderr
    assert done.stderr.count("\n") <= 3


def all_commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        commands = getattr(command, "commands", None)
        if commands:
            for name, sub in commands.items():
                walk(sub, [*path, name])
        else:
            found.append(path)

    walk(group, [])
    return found


def test_every_command_has_help_with_an_example_and_the_exit_codes() -> None:
    commands = all_commands()
    assert len(commands) >= 20
    for path in commands:
        result = invoke(*path, "--help")
        text = " ".join(result.stdout.split())
        assert result.exit_code == 0, path
        assert "Example" in text, f"{' '.join(path)}: no example"
        assert "Exit codes" in text, f"{' '.join(path)}: no exit codes"


def test_binary_standard_input_is_a_user_error() -> None:
    result = runner.invoke(app, ["route", "--no-audit", "--context", "-"], input=bytes(range(256)) * 4)
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_policy_show_lists_the_features_the_hints_point_to() -> None:
    shown = json.loads(invoke("policy", "show", "--json").stdout)
    assert [f["name"] for f in shown["features"]][:3] == ["goal", "stakes", "time_available"]
    assert shown["rules"][0]["id"] == "danger-first" and shown["fallback"] == "talk"
    hint = invoke("route", "--set", "stake=high")
    assert "did you mean `stakes`?" in hint.stderr
    unknown = invoke("route", "--set", "zzz=1")
    assert "discern policy show" in unknown.stderr
