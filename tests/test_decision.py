"""Scoring, exclusion, guardrails, thresholds, robustness and unknowns."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from router import Router


def route(router: Router, **context: Any) -> Any:
    return router.route(context)


def entry(decision: Any, tool: str) -> dict[str, Any]:
    return next(r for r in decision.to_dict()["ranking"] if r["tool"] == tool)


def test_score_is_capabilities_minus_penalties(engine_router: Router) -> None:
    d = route(engine_router, goal="decide", options=4, stakes="high", time_available=10)
    matrix = entry(d, "matrix")
    assert matrix["score"] == 2 + 1 + 1 - 2
    assert {c["id"] for c in matrix["contributions"]} == {"deciding", "many-options", "stakes", "hurry"}


def test_exclusion_removes_a_tool_whatever_its_score(engine_router: Router) -> None:
    d = route(engine_router, goal="decide", options=5, stakes="high", time_available=60, emotional_intensity=9)
    matrix = entry(d, "matrix")
    assert matrix["excluded"] and matrix["excluded_by"]["id"] == "hot"
    assert d.tool != "matrix"
    assert matrix["score"] == 4  # its capabilities still show, but cannot outweigh the exclusion


def test_require_rule_beats_any_score(engine_router: Router) -> None:
    d = route(engine_router, goal="decide", options=9, stakes="high", time_available=600, danger=True)
    assert d.tool == "help" and d.chosen_by == "require"
    assert d.rules_fired == ["danger-first"] and d.confident and d.robust


def test_forbid_rule_removes_its_tool(engine_router: Router) -> None:
    d = route(engine_router, goal="decide", time_available=2, group=True)
    gut = entry(d, "gut")
    assert gut["excluded"] and gut["excluded_by"] == {
        "id": "no-gut-in-groups", "kind": "rule", "why": "a group cannot share one gut call", "when": "group"}
    assert "no-gut-in-groups" in d.rules_fired and d.tool != "gut"


def test_below_minimum_score_gives_the_fallback_and_is_not_confident(engine_router: Router) -> None:
    d = route(engine_router, goal="plan", stakes="low", danger=False, emotional_intensity=3)
    assert d.tool == "talk" and d.chosen_by == "fallback" and not d.confident
    assert d.to_dict()["fallback"] == "talk"


def test_small_margin_is_not_confident(tmp_path: Path, engine_policy: Path) -> None:
    text = engine_policy.read_text().replace("min_margin: 0.5", "min_margin: 5")
    policy = tmp_path / "policy.yaml"
    policy.write_text(text.replace("tools/", str(engine_policy.parent / "tools") + "/"))
    d = Router.load(policy).route({"goal": "decide", "options": 4, "stakes": "high", "time_available": 60})
    assert d.tool == "matrix" and d.chosen_by == "score" and not d.confident
    assert d.runner_up is not None


def test_robust_when_worst_case_beats_every_best_case(engine_router: Router) -> None:
    d = route(engine_router, goal="decide", options=4, stakes="high", time_available=60,
              emotional_intensity=3, danger=False, group=True, trauma=False)
    assert d.tool == "matrix" and d.robust and d.unknowns == []


def test_unknowns_name_the_features_that_could_change_the_choice(engine_router: Router) -> None:
    d = route(engine_router, goal="decide", options=4, stakes="high", time_available=60)
    assert not d.robust
    # danger could fire a guardrail; emotional_intensity could exclude the matrix
    assert d.unknowns[:2] == ["danger", "emotional_intensity"]


def test_unknown_exclusion_of_a_rival_does_not_matter(engine_router: Router) -> None:
    d = route(engine_router, goal="decide", options=4, stakes="high", time_available=60,
              emotional_intensity=3, danger=False, group=True)
    # trauma could only exclude gut, which is already forbidden and behind
    assert "trauma" not in d.unknowns and d.robust


def test_require_whose_tool_is_excluded_does_not_fire(tmp_path: Path, engine_policy: Path) -> None:
    text = engine_policy.read_text().replace("    locked: true\n", "").replace(
        "  - id: no-gut-in-groups", "  - id: rush-gut\n    when: goal == decide\n    require: gut\n"
        "    reason: decide fast\n  - id: no-gut-in-groups")
    policy = tmp_path / "policy.yaml"
    policy.write_text(text.replace("tools/", str(engine_policy.parent / "tools") + "/"))
    d = Router.load(policy).route({"goal": "decide", "trauma": True, "danger": False})
    assert d.tool != "gut" and "rush-gut" not in d.rules_fired
    assert any("rush-gut" in note and "does not fire" in note for note in d.notes)


def test_ranking_covers_every_tool_best_first(engine_router: Router) -> None:
    d = route(engine_router, goal="cope", emotional_intensity=9, group=True)
    ranking = d.to_dict()["ranking"]
    assert {r["tool"] for r in ranking} == {"matrix", "breathe", "talk", "help", "gut"}
    assert ranking[0]["tool"] == d.tool == "breathe"
    allowed = [r["score"] for r in ranking if not r["excluded"]]
    assert allowed[1:] == sorted(allowed[1:], reverse=True)
    assert all(r["excluded"] for r in ranking[len(allowed):])


def test_to_dict_has_the_contract_keys(engine_router: Router) -> None:
    d = route(engine_router, goal="decide").to_dict()
    for key in ("version", "tool", "confident", "robust", "unknowns", "rules_fired", "ranking", "inferred",
                "policy", "decision_id", "runner_up", "fallback"):
        assert key in d
    assert d["version"] == 1 and d["inferred"] == [] and d["decision_id"] is None
    assert set(d["policy"]) >= {"name", "version", "hash"}
    for item in d["ranking"]:
        assert set(item) >= {"tool", "score", "bounds", "excluded", "excluded_by", "contributions"}
        for c in item["contributions"]:
            assert set(c) >= {"kind", "weight", "why", "sources", "when"}


def test_explain_says_why_and_why_not_the_runner_up(engine_router: Router) -> None:
    text = route(engine_router, goal="decide", options=4, stakes="high").explain()
    assert "Recommended: matrix" in text and "Runner-up: gut" in text
    assert "built for choices" in text and "Could change the choice:" in text


LEVELS: dict[str, list[Any]] = {
    "goal": ["decide", "plan", "cope", None], "stakes": ["low", "moderate", "high", None],
    "time_available": [3, 15, 60, None], "emotional_intensity": [1, 5, 9, None], "options": [1, 4, None],
    "group": [True, False, None], "danger": [True, False, None], "trauma": [True, False, None],
}


def completions(context: dict[str, Any]) -> list[dict[str, Any]]:
    missing = [f for f in LEVELS if f not in context]
    values = [[v for v in LEVELS[f] if v is not None] for f in missing]
    return [{**context, **dict(zip(missing, combo))} for combo in itertools.product(*values)]


def test_robust_decisions_survive_every_completion(engine_router: Router) -> None:
    """The robustness promise, checked exhaustively over a small domain: when a decision
    says it is robust, no answer to the missing features changes the tool; when it is not,
    some feature it names can."""
    import random

    rng = random.Random(7)
    checked = 0
    for _ in range(150):
        context = {f: rng.choice(v) for f, v in LEVELS.items()}
        context = {f: v for f, v in context.items() if v is not None}
        d = engine_router.route(context)
        outcomes = {engine_router.route(full).tool for full in completions(context)}
        if d.robust:
            assert outcomes == {d.tool}, context
            checked += 1
        else:
            assert set(d.unknowns) <= set(LEVELS) - set(context)
    assert checked > 10


def test_bad_context_raises_one_exception_type(engine_router: Router) -> None:
    from router import ContextError

    for bad in ({"stake": "high"}, {"stakes": "hgh"}, {"options": "many"}, {"emotional_intensity": 11},
                {"group": "perhaps"}, {"options": 2.5}, {"time_available": float("nan")}, {"goal": 3}):
        with pytest.raises(ContextError):
            engine_router.route(bad)


def test_context_error_messages_are_clear(engine_router: Router) -> None:
    from router import ContextError

    with pytest.raises(ContextError) as caught:
        engine_router.route({"stake": "high", "emotional_intensity": 11})
    messages = [(p.message, p.hint) for p in caught.value.problems]
    assert ("unknown feature `stake`", "did you mean `stakes`?") in messages
    assert ("value `11` for `emotional_intensity` is out of range",
            "`emotional_intensity` takes a number from 0 to 10") in messages


def test_one_router_is_safe_to_share_between_threads(engine_router: Router) -> None:
    from concurrent.futures import ThreadPoolExecutor

    contexts = [{"goal": g, "emotional_intensity": e} for g in ("decide", "cope", "plan") for e in range(11)]
    expected = [engine_router.route(c).to_dict() for c in contexts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: engine_router.route(c).to_dict(), contexts * 20))
    assert results == expected * 20


def test_a_locked_rule_cannot_be_outranked_by_a_higher_priority_rule(tmp_path: Path) -> None:
    from router import load_policy

    policy = tmp_path / "override.yaml"
    policy.write_text("name: override\nversion: '1'\nextends: default\nrules:\n"
                      "  - id: numbers-first\n    when: safety_risk and goal == decide\n"
                      "    require: decision-matrix\n    priority: 1000\n    reason: analysis first\n")
    d = Router(load_policy(policy)).route({"safety_risk": True, "goal": "decide", "options": 4})
    assert d.tool == "seek-professional-help" and d.deciding_rule == "safety-first"


def test_when_only_one_tool_is_allowed_nothing_unknown_can_change_it(tmp_path: Path, engine_policy: Path) -> None:
    text = engine_policy.read_text().replace(
        "  - id: no-gut-in-groups",
        "  - id: only-help\n    when: goal == plan\n    forbid: [matrix, breathe, talk, gut]\n"
        "    reason: planning goes to help\n  - id: no-gut-in-groups")
    policy = tmp_path / "policy.yaml"
    policy.write_text(text.replace("tools/", str(engine_policy.parent / "tools") + "/"))
    d = Router.load(policy).route({"goal": "plan", "danger": False})
    assert d.tool == "help" and d.robust and d.unknowns == []
