"""The person's own words in routing: the safety screen first, features read from the
words (a given value wins), tools matched by situation, and bad text."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from conftest import DATA, ROOT
from typer.testing import CliRunner

from router import ContextError, Router
from router.vignettes import load_suite

CRISIS = "I've decided tonight is when I stop being a burden to everyone, I know how I'll do it"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.load()


def inferred(decision: Any, feature: str) -> dict[str, Any]:
    return next(i for i in decision.to_dict()["inferred"] if i["feature"] == feature)


def test_the_screen_fires_whatever_the_context_says(router: Router) -> None:
    d = router.route({"description": CRISIS, "safety_risk": False, "goal": "plan"})
    assert d.tool == "seek-professional-help" and "safety-first" in d.rules_fired
    screen = inferred(d, "safety_risk")
    assert screen["source"] == "screen" and screen["value"] is True and "how" in screen["evidence"]
    assert any("safety first" in note for note in d.notes)
    assert "Read from your words: safety_risk" in d.explain()


def test_figurative_words_do_not_raise_the_screen(router: Router) -> None:
    d = router.route({"description": "This deadline is murder and I'm dying of embarrassment about the demo."})
    assert all(i["feature"] != "safety_risk" for i in d.to_dict()["inferred"])
    assert d.tool != "seek-professional-help"


def test_a_given_value_wins_over_a_value_read_from_the_words(router: Router) -> None:
    text = "I keep replaying the argument with my sister over and over and I can't sleep."
    read = router.route({"description": text})
    rumination = inferred(read, "rumination")
    assert rumination["value"] is True and rumination["used"] is True
    given = router.route({"description": text, "rumination": False})
    assert inferred(given, "rumination")["used"] is False
    assert given.context["rumination"] is False


def test_inferred_values_are_typed_as_the_schema_says(router: Router) -> None:
    d = router.route({"description": "I'm panicking, about a 9 out of 10, and I have to choose between two "
                                     "job offers by tomorrow; it feels like a huge, irreversible decision."})
    values = {i["feature"]: i["value"] for i in d.to_dict()["inferred"]}
    assert isinstance(values.get("emotional_intensity"), float)
    if "reversibility" in values:
        assert values["reversibility"] in ("irreversible", "costly", "easy")
    if "options" in values:
        assert values["options"] == 2 and isinstance(values["options"], int)


def test_matching_adds_a_bounded_text_contribution(router: Router) -> None:
    d = router.route({"description": "My father's illness is terminal and there is nothing more the doctors can do."})
    text = [c for r in d.to_dict()["ranking"] for c in r["contributions"] if c["kind"] == "text"]
    assert text and all(0 < c["weight"] <= router.policy.text_weight for c in text)


def test_out_of_scope_text_matches_no_tool(router: Router) -> None:
    d = router.route({"description": "what's the weather tomorrow"})
    assert not [c for r in d.to_dict()["ranking"] for c in r["contributions"] if c["kind"] == "text"]


def test_a_match_never_outweighs_an_exclusion(router: Router) -> None:
    d = router.route({"description": "I want to sit quietly and send kind wishes to myself and others, may I be safe.",
                      "trauma_activation": True, "goal": "cope"})
    assert d.tool not in ("loving-kindness", "mindful-noting", "examen", "expressive-writing")


def test_empty_description_is_ignored_with_a_note(router: Router) -> None:
    d = router.route({"description": "   \n ", "goal": "cope", "controllability": "none"})
    assert d.tool is not None and any("empty" in n for n in d.notes)


def test_megabytes_of_text_are_refused(router: Router) -> None:
    with pytest.raises(ContextError) as caught:
        router.route({"description": "word " * 300_000})
    assert "limit" in caught.value.message


def test_another_language_routes_on_the_other_features(router: Router) -> None:
    d = router.route({"description": "Мне очень тяжело, не знаю что делать", "goal": "cope",
                      "controllability": "none", "emotional_intensity": 5})
    assert any("English" in n for n in d.notes) and d.tool is not None


def test_the_screen_reads_slang_that_does_not_look_english(router: Router) -> None:
    d = router.route({"description": "kms fr fr", "goal": "cope"})
    assert inferred(d, "safety_risk")["value"] is True and d.tool == "seek-professional-help"


def test_off_topic_questions_match_no_tool(router: Router) -> None:
    for text in ("What does HTTP 404 mean?", "How do I boil an egg?", "Remind me to buy milk"):
        d = router.route({"description": text})
        assert not [c for r in d.to_dict()["ranking"] for c in r["contributions"] if c["kind"] == "text"], text


def test_control_characters_are_harmless(router: Router) -> None:
    d = router.route({"description": "I keep\x00 replaying\x1b[31m the\x07 fight", "goal": "cope"})
    assert d.tool is not None


def test_cli_refuses_oversized_text_with_exit_2() -> None:
    from cli import app

    result = CliRunner().invoke(app, ["route", "--no-audit", "--set", "description=" + "a " * 20_000])
    assert result.exit_code == 2 and "limit" in result.stderr and "Traceback" not in result.output


def test_public_vignettes_with_descriptions_route_soundly(router: Router) -> None:
    described = [v for v in load_suite(DATA / "vignettes_public.yaml") if "description" in v.context]
    assert len(described) >= 5
    for v in described:
        full = router.route(v.context)
        words_only = router.route({"description": v.context["description"]})
        assert full.tool not in v.forbidden, full.explain()
        assert words_only.tool not in v.forbidden, (v.id, words_only.explain())


def test_routing_without_a_description_does_not_import_scikit_learn() -> None:
    code = ("import sys; from router import Router; Router.load().route({'goal': 'decide'}); "
            "print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_words_that_two_patterns_quote_are_shown_once() -> None:
    from router import Router

    d = Router.load().route({"description": "I've saved up my pills and I'm taking them all tonight"})
    reading = next(i for i in d.inferred if i.feature == "safety_risk")
    quoted = reading.evidence.split("; ")
    assert len(quoted) == len(set(quoted)) and "saved up my pills" in quoted
