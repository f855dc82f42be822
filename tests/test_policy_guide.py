"""The "Writing policies" guide: its worked example loads, passes its own cases, lints
clean, and the guide names every lint code."""

from __future__ import annotations

import re

import typer
from conftest import ROOT
from typer.testing import CliRunner

from discern_cli.policy import policy_lint, policy_test
from router import Router, load_policy
from router.policytest import load_suite, run_suite

GUIDE = ROOT / "docs" / "writing-policies.md"
EXAMPLES = ROOT / "docs" / "examples"
app = typer.Typer()
app.command("test")(policy_test)
app.command("lint")(policy_lint)
runner = CliRunner()


def test_the_example_extends_the_default_with_one_tool_and_one_guardrail() -> None:
    default, gentle = load_policy(), load_policy(EXAMPLES / "gentle.yaml")
    assert set(gentle.tools) - set(default.tools) == {"walk-it-off"}
    assert [r.id for r in gentle.rules if r.id not in {d.id for d in default.rules}] == ["no-snap-judgements-when-tired"]
    assert Router(gentle).route({"safety_risk": True}).tool == "seek-professional-help"


def test_the_example_test_file_passes() -> None:
    suite = load_suite(EXAMPLES / "gentle.tests.yaml")
    assert suite.policy.name == "gentle"
    assert all(result.passed for result in run_suite(suite).results)
    cli = runner.invoke(app, ["test", str(EXAMPLES / "gentle.tests.yaml")])
    assert cli.exit_code == 0 and re.search(r"^5 passed in ", cli.stdout, re.MULTILINE)


def test_the_example_lints_clean() -> None:
    assert runner.invoke(app, ["lint", str(EXAMPLES / "gentle.yaml")]).exit_code == 0


def test_the_guide_links_files_that_exist() -> None:
    text = GUIDE.read_text()
    for link in re.findall(r"\]\((examples/[^)]+)\)", text):
        assert (GUIDE.parent / link).exists(), link


def test_the_guide_names_every_lint_code() -> None:
    from router import lint

    codes = set(re.findall(r"``([a-z]+(?:-[a-z]+)+)``", lint.__doc__ or ""))
    assert {"unreachable-tool", "rule-conflict", "unused-feature"} <= codes
    text = GUIDE.read_text()
    for code in codes:
        assert f"`{code}`" in text, code


def test_the_guide_covers_the_formats_and_the_logic() -> None:
    text = GUIDE.read_text()
    for heading in ("Tool spec files", "Policy files", "Test files", "The condition language", "Three-valued logic",
                    "How a decision is made", "Worked example"):
        assert heading in text
