"""`discern policy lint`: policies that load but cannot do what they look like they do."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import typer
from conftest import DATA, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from discern_cli.policy import policy_lint
from router import load_policy
from router.conditions import compile_condition
from router.domain import domain_of, number_values
from router.features import Feature, FeatureSet
from router.lint import lint_policy
from router.reachability import find_reachable

app = typer.Typer()
app.command("lint")(policy_lint)
app.command("noop")(lambda: None)  # two commands keep `lint` a subcommand
runner = CliRunner()
DEMO = DATA / "policies" / "lint" / "policy.yaml"


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["lint", *args])


@pytest.fixture(scope="module")
def demo_findings() -> dict[str, list[str]]:
    report = lint_policy(load_policy(DEMO))
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.code, []).append(str(finding))
    return found


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_tool_that_can_never_win_is_found_exhaustively(demo_findings: dict[str, list[str]]) -> None:
    [text] = demo_findings["unreachable-tool"]
    assert text.startswith("tests/data/policies/lint/tools/shadow.yaml:1:5: warning: tool `shadow` is never "
                           "recommended: no context in the schema's domain makes it win") or \
        "shadow.yaml:1:5: warning: tool `shadow` is never recommended" in text


def test_the_search_says_it_was_exhaustive_on_a_small_domain() -> None:
    found = find_reachable(load_policy(DEMO))
    assert found.method == "exhaustive" and found.unreachable == ["shadow"]
    assert "exhaustive: every one of the" in found.describe()
    assert found.contexts_tried == found.domain_size


def test_a_large_domain_is_searched_and_says_so() -> None:
    found = find_reachable(load_policy(DEMO), exhaustive_limit=10, samples=200, seed=4)
    assert found.method == "search" and "seed 4" in found.describe() and "not exhaustive" in found.describe()
    assert found.unreachable == ["shadow"]
    assert "shadow" in found.closest and found.closest_scores["shadow"][1] != "shadow"


def test_hill_climbing_finds_a_narrow_winner(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    features = "\n".join(f"  f{i}: {{type: ordinal, levels: [a, b, c, d]}}" for i in range(9))
    (tmp_path / "p.yaml").write_text(f"name: narrow\nfeatures:\n{features}\ntools: [tools/*.yaml]\n")
    (tools / "broad.yaml").write_text(
        "id: broad\nname: Broad\nsummary: s\ncapabilities:\n  - {id: any, when: f0 != d, weight: 1, why: w}\n")
    narrow = " and ".join(f"f{i} == d" for i in range(8))
    (tools / "narrow.yaml").write_text(
        f"id: narrow\nname: Narrow\nsummary: s\ncapabilities:\n  - {{id: all, when: {narrow}, weight: 5, why: w}}\n")
    found = find_reachable(load_policy(tmp_path / "p.yaml"), exhaustive_limit=100, samples=300)
    assert found.method == "search" and found.unreachable == []  # 1 in 65536 by chance; found by climbing
    assert all(found.witnesses["narrow"][f"f{i}"] == "d" for i in range(8))


def test_conditions_that_never_or_always_hold(demo_findings: dict[str, list[str]]) -> None:
    [never] = demo_findings["condition-never-holds"]
    assert "matrix.yaml:9:28: warning: the condition `emotional_intensity > 10` of limitation `impossible` of " \
           "`matrix` can never hold" in never
    assert "hint: `emotional_intensity` takes a number from 0 to 10" in never
    [always] = demo_findings["condition-always-holds"]
    assert "matrix.yaml:7:47: warning: `stakes >= low` in the condition of capability `any-stakes`" in always
    assert "holds whenever `stakes` is known" in always


def test_limitations_that_cancel_every_capability(demo_findings: dict[str, list[str]]) -> None:
    [text] = demo_findings["limitations-cancel-capabilities"]
    assert "cancelled.yaml:8:3: warning: whenever a capability of `cancelled` holds, one of its exclusions " \
           "holds too" in text


def test_penalties_that_always_outweigh(demo_findings: dict[str, list[str]]) -> None:
    [text] = demo_findings["penalties-outweigh"]
    assert "heavy.yaml:8:3: warning: the penalties of `heavy` always outweigh its capabilities" in text


def test_conflicting_guardrails(demo_findings: dict[str, list[str]]) -> None:
    forbid, same_priority = demo_findings["rule-conflict"]
    assert f"policy.yaml:{line_of(DEMO, 'id: no-breathing-in-groups')}:5: warning: rule `calm-first` (require " \
           "`breathe`) and rule `no-breathing-in-groups` (forbid `breathe`) can fire together, e.g. when " \
           "emotional_intensity=9, group=true" in forbid
    assert f"policy.yaml:{line_of(DEMO, 'id: talk-when-hot')}:5:" in same_priority
    assert "require different tools (`breathe`, `talk`) at the same priority (0)" in same_priority
    assert "give one a higher `priority`" in same_priority


def test_a_rule_whose_tool_is_always_ruled_out(demo_findings: dict[str, list[str]]) -> None:
    [text] = demo_findings["rule-without-effect"]
    assert "rule `ground-trauma` prefers `cancelled`, but whenever it holds `cancelled` is ruled out" in text


def test_unused_features_and_missing_evidence_or_steps(demo_findings: dict[str, list[str]]) -> None:
    [unused] = demo_findings["unused-feature"]
    assert f"policy.yaml:{line_of(DEMO, 'tired:')}:3: warning: feature `tired` is read by no condition" in unused
    assert "description" not in " ".join(demo_findings["unused-feature"])  # text feeds word matching
    assert "tool `shadow` cites no evidence" in demo_findings["no-evidence"][0]
    assert "tool `shadow` has no how-to steps" in demo_findings["no-how-to"][0]


def test_cli_exit_codes_follow_fail_on() -> None:
    assert invoke(str(DEMO)).exit_code == 1
    assert invoke(str(DEMO), "--fail-on", "error").exit_code == 0
    bad = invoke(str(DEMO), "--fail-on", "loud")
    assert bad.exit_code == 2 and "unknown severity `loud`" in bad.stderr and "hint: use info, warning or error" in bad.stderr


def test_cli_text_output_lists_findings_and_the_search() -> None:
    out = invoke(str(DEMO)).stdout
    assert "warning: tool `shadow` is never recommended" in out and "[unreachable-tool]" in out
    assert "lint-demo 1: 0 errors, 11 warnings, 0 info" in out
    assert "unreachable tools: exhaustive" in out


def test_cli_json_output() -> None:
    result = invoke(str(DEMO), "--json")
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["ok"] is False and data["fail_on"] == "warning"
    assert data["search"]["method"] == "exhaustive" and data["search"]["unreachable"] == ["shadow"]
    first = data["findings"][0]
    assert set(first) >= {"code", "severity", "message", "hint", "file", "line", "column"}
    assert data["counts"]["warning"] == len(data["findings"])


def test_a_broken_policy_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("name: p\nfallback: x\n")
    result = invoke(str(tmp_path / "p.yaml"))
    assert result.exit_code == 2 and "p.yaml:2:11: fallback `x` is not a tool in play" in result.stderr


def test_the_default_policy_lints_clean() -> None:
    result = invoke(str(ROOT / "policies" / "default.yaml"))
    assert result.exit_code == 0, result.stdout


def test_the_guide_example_lints_clean() -> None:
    assert invoke(str(ROOT / "docs" / "examples" / "gentle.yaml")).exit_code == 0


# --- the interesting values stand for the whole domain -------------------------------------------

@settings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(-5, 25), min_size=1, max_size=4), op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
       kind=st.sampled_from(["number", "integer"]), lo=st.sampled_from([None, 0]), hi=st.sampled_from([None, 20]))
def test_interesting_values_meet_every_region_a_condition_can_tell_apart(
        cuts: list[int], op: str, kind: str, lo: int | None, hi: int | None) -> None:
    feature = Feature("x", kind, minimum=lo, maximum=hi)  # type: ignore[arg-type]
    features = FeatureSet({"x": feature})
    text = " or ".join(f"x {op} {c}" for c in cuts[:-1]) + (" or " if len(cuts) > 1 else "") + f"x {op} {cuts[-1]}"
    test = compile_condition(text, features).test
    chosen = {test({"x": feature.check(v)}) for v in number_values(feature, [float(c) for c in cuts])}
    step = 1.0 if kind == "integer" else 0.25
    grid = [(lo if lo is not None else -10) + i * step for i in range(int(((hi if hi is not None else 40) -
                                                                           (lo if lo is not None else -10)) / step) + 1)]
    every = {test({"x": feature.check(int(v) if kind == "integer" else v)}) for v in grid}
    assert every <= chosen


def test_domain_values_include_unknown_every_level_and_the_thresholds() -> None:
    domain = domain_of(load_policy(DATA / "engine" / "policy.yaml"))
    assert domain.raw["stakes"] == ("low", "moderate", "high", None)
    assert domain.raw["group"] == (True, False, None)
    assert domain.raw["description"] == (None,)
    assert {2.0, 7.0, 8.0, 10.0} <= set(v for v in domain.raw["emotional_intensity"] if v is not None)
    assert domain.sample(5, seed=1) == domain.sample(5, seed=1)
    random.seed(0)
