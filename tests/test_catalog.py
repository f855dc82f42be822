"""The default catalog and policy, measured against published guidance: the public
vignettes, the routing principles over random situations, and every tool reachable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DATA, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from router import Router, load_policy
from router.vignettes import load_suite, run_suite

CATALOG_IDS = """decision-matrix expected-value reference-class fermi-estimate bayesian-update premortem
consider-the-opposite devils-advocate satisfice trust-intuition safe-to-fail-probe act-to-stabilize checklist
sleep-on-it temporal-distancing problem-solving paced-breathing grounding mindful-noting loving-kindness
self-compassion-break acceptance expressive-writing values-clarification examen perspective-taking talk-it-through
seek-professional-help""".split()


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.load()


def test_the_catalog_has_the_28_fixed_tool_ids(router: Router) -> None:
    assert sorted(router.policy.tools) == sorted(CATALOG_IDS)


@pytest.mark.parametrize("tool_id", CATALOG_IDS)
def test_every_spec_is_complete(router: Router, tool_id: str) -> None:
    spec = router.policy.tools[tool_id].spec
    assert spec.summary and len(spec.how_to) >= 3
    assert spec.capabilities and spec.limitations and spec.failure_modes
    assert len(spec.evidence) >= 2 and spec.cost is not None and spec.examples
    keys = {e.key for e in spec.evidence}
    for clause in [*spec.capabilities, *spec.limitations]:
        assert set(clause.sources) <= keys, (tool_id, clause.id)


def test_the_default_policy_loads_without_warnings(router: Router) -> None:
    assert router.policy.warnings == ()
    assert load_policy().hash == router.policy.hash


def test_public_vignettes_pass_with_no_violation(router: Router) -> None:
    report = run_suite(router, load_suite(DATA / "vignettes_public.yaml"))
    misses = "\n\n".join(f"{m.vignette.id}: {m.explanation}" for m in report.misses)
    assert not report.violations, misses
    assert report.pass_rate >= 0.9, misses


def test_vignettes_command_prints_the_pass_rate() -> None:
    from cli import app

    result = CliRunner().invoke(app, ["vignettes", str(DATA / "vignettes_public.yaml"), "--json"],
                                env={"DISCERN_POLICY": ""})
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["total"] == 45 and report["violations"] == []


# --- the principles, over random situations ---------------------------------------------------

SCHEMA = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())["features"]


def values_for(name: str, spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = spec["type"]
    if kind in ("category", "ordinal"):
        return st.sampled_from(spec["levels"])
    if kind == "boolean":
        return st.booleans()
    if name == "emotional_intensity":
        return st.integers(0, 10)
    if name == "time_available":
        return st.sampled_from([0, 1, 2, 3, 5, 6, 10, 15, 20, 30, 45, 60, 90, 120, 240, 600, 1440, 2000, 10080])
    return st.integers(0, 8)


situations = st.fixed_dictionaries({}, optional={
    name: values_for(name, spec) for name, spec in SCHEMA.items() if spec["type"] != "text"})

LEVEL = {name: spec.get("levels") for name, spec in SCHEMA.items()}


def at_least(context: dict[str, Any], feature: str, level: str) -> bool:
    value = context.get(feature)
    return value is not None and LEVEL[feature].index(value) >= LEVEL[feature].index(level)


def ruled_out(c: dict[str, Any]) -> set[str]:
    """The tools the catalog's guardrails rule out for a fully known part of a situation."""
    out: set[str] = set()
    ei = c.get("emotional_intensity")
    if c.get("trauma_activation") is True:
        out |= {"mindful-noting", "loving-kindness", "examen", "expressive-writing", "sleep-on-it", "trust-intuition"}
    if ei is not None and ei >= 8:
        out |= {"trust-intuition", "satisfice", "mindful-noting", "loving-kindness", "expressive-writing", "examen"}
        if c.get("goal") == "decide" and at_least(c, "stakes", "high") and c.get("reversibility") == "irreversible":
            out |= {"decision-matrix", "expected-value"}
    hot = (ei is not None and ei >= 7) or (c.get("rumination") is True and c.get("values_conflict") is True)
    if c.get("goal") == "decide" and c.get("reversibility") == "irreversible" and hot:
        out |= {"trust-intuition", "satisfice"}
    if c.get("fatigue") is True and at_least(c, "stakes", "high") and c.get("reversibility") == "irreversible":
        out |= {"trust-intuition", "satisfice"}
    if c.get("environment_validity") == "low" or c.get("experience") == "none":
        out.add("trust-intuition")
    if c.get("controllability") == "none":
        out |= {"problem-solving", "decision-matrix", "safe-to-fail-probe"}
        if c.get("goal") == "cope":
            out.add("expected-value")
    if c.get("controllability") == "full" and c.get("goal") in ("decide", "plan"):
        out.add("acceptance")
    time = c.get("time_available")
    if at_least(c, "stakes", "high") and time is not None and time <= 5:
        out |= {"decision-matrix", "expected-value", "reference-class", "fermi-estimate", "bayesian-update",
                "premortem", "devils-advocate", "safe-to-fail-probe", "sleep-on-it", "problem-solving",
                "expressive-writing", "values-clarification", "examen", "loving-kindness"}
    if c.get("uncertainty") == "deep" and at_least(c, "stakes", "high"):
        out.add("expected-value")
    return out


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations)
def test_routing_principles_hold_in_every_situation(router: Router, context: dict[str, Any]) -> None:
    decision = router.route(context)
    if context.get("safety_risk") is True:
        assert decision.tool == "seek-professional-help" and decision.robust
        return
    assert decision.tool not in ruled_out(context), decision.explain()
    chosen = decision.score_of(decision.tool)
    assert chosen is not None and not chosen.excluded


def test_safety_wins_whatever_else_the_context_says(router: Router) -> None:
    d = router.route({"goal": "decide", "stakes": "critical", "time_available": 1, "trauma_activation": True,
                      "emotional_intensity": 10, "safety_risk": True, "controllability": "full"})
    assert d.tool == "seek-professional-help" and "safety-first" in d.rules_fired and d.confident


def test_missing_safety_answer_is_named_when_it_could_change_the_choice(router: Router) -> None:
    d = router.route({"goal": "cope", "emotional_intensity": 9})
    assert d.unknowns[0] == "safety_risk" and not d.robust


# --- every tool is reachable -----------------------------------------------------------------

def test_every_tool_is_chosen_in_some_situation(router: Router) -> None:
    """A seeded search over situations finds, for each tool, one where the default policy
    chooses it."""
    import random

    rng = random.Random(11)
    reached: dict[str, dict[str, Any]] = {}
    for vignette in load_suite(DATA / "vignettes_public.yaml"):
        reached.setdefault(router.route(vignette.context).tool or "", vignette.context)
    names = [n for n, s in SCHEMA.items() if s["type"] != "text"]
    for _ in range(6000):
        if len(reached) >= len(CATALOG_IDS) + 1:
            break
        context: dict[str, Any] = {}
        for name in rng.sample(names, rng.randint(1, 7)):
            spec = SCHEMA[name]
            if spec["type"] in ("category", "ordinal"):
                context[name] = rng.choice(spec["levels"])
            elif spec["type"] == "boolean":
                context[name] = rng.random() < 0.5
            elif name == "emotional_intensity":
                context[name] = rng.randint(0, 10)
            elif name == "time_available":
                context[name] = rng.choice([2, 5, 10, 20, 30, 60, 120, 1440, 3000])
            else:
                context[name] = rng.randint(0, 6)
        reached.setdefault(router.route(context).tool or "", context)
    missing = sorted(set(CATALOG_IDS) - set(reached))
    assert not missing, f"never chosen: {missing}"


@pytest.mark.parametrize("text, message, where", [
    ("- {id: v1, context: {goal: decid}, acceptable: [premortem]}\n",
     "vignette `v1`: unknown level `decid` for feature `goal`", ":1:28"),
    ("- {id: v1, context: {goal: decide}, acceptable: [premortm]}\n",
     "vignette `v1`: unknown tool `premortm`", ":1:50"),
    ("[]\n", "a vignette suite is a non-empty list of vignettes", ":1:1"),
])
def test_bad_vignette_suites_are_located_user_errors(tmp_path: Path, text: str, message: str, where: str) -> None:
    from cli import app

    suite = tmp_path / "suite.yaml"
    suite.write_text(text)
    result = CliRunner().invoke(app, ["vignettes", str(suite)], env={"DISCERN_POLICY": ""})
    assert result.exit_code == 2, result.output
    assert f"{suite}{where}: {message}" in " ".join(result.stderr.split())
