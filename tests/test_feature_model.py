"""The learned reading of goal and stakes: trained on the labelled descriptions, measured on a
held-out set (described_heldout.yaml) never used to write rules or to train; and the shared
text model's own arithmetic, which must agree with scikit-learn's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DATA

from router import feature_model, screen_model
from router.feature_model import FEATURES, TRAINING_FILE, learned_value
from router.words import read_features

WORDS = DATA / "words"
TRAINED_ON = ("described", "described_fresh", "described_unseen", "described_final", "described_extra",
              "described_more", "described_g", "described_h", "described_i",
              "described_j", "described_k")


def _items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((WORDS / f"{name}.yaml").read_text("utf-8"))["items"]
    return items


def test_training_texts_are_the_labelled_descriptions() -> None:
    training = yaml.safe_load(TRAINING_FILE.read_text("utf-8"))["items"]
    expected = [{"text": i["text"], **{f: i["features"][f] for f in FEATURES if i["features"].get(f) is not None}}
                for name in TRAINED_ON for i in _items(name)]
    assert training == [e for e in expected if len(e) > 1]
    held_out = {i["text"] for name in ("described_heldout", "described_heldout_l") for i in _items(name)}
    assert not held_out & {i["text"] for i in training}


def _right(feature: str, *, learned: bool) -> int:
    right = 0
    for item in _items("described_heldout"):
        got = {r.feature: r.value for r in read_features(item["text"], learned=learned)}
        right += got.get(feature) == item["features"][feature]
    return right


@pytest.mark.parametrize(("feature", "floor"), [("goal", 140), ("stakes", 100)])
def test_the_learned_reading_adds_to_the_rules_on_descriptions_never_seen(feature: str, floor: int) -> None:
    assert len(_items("described_heldout")) >= 150
    rules_alone, with_learned = _right(feature, learned=False), _right(feature, learned=True)
    # floors at what was measured (goal 95 by rules alone, 140 with the learned reading, of
    # 150; stakes 78 and 100)
    assert with_learned > rules_alone and with_learned >= floor


def test_a_learned_reading_names_words_of_the_text_and_yields_to_a_rule() -> None:
    text = "Our band is playing its first gig on Saturday and still has no name."
    readings = {r.feature: r for r in read_features(text)}
    goal = readings["goal"]
    assert goal.value == "create" and goal.pattern_id.startswith("learned-goal (")
    assert all(term in text.lower() for term in goal.evidence.split(", "))
    # a rule that reads the goal comes first
    ruled = {r.feature: r for r in read_features("Should I take the job in Leeds or stay where I am?")}
    assert not ruled["goal"].pattern_id.startswith("learned")


def test_the_learned_reading_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCERN_FEATURE_MODEL", "off")
    text = "Our band is playing its first gig on Saturday and still has no name."
    assert learned_value(text, "goal") is None
    assert all(not r.pattern_id.startswith("learned") for r in read_features(text))


@pytest.mark.parametrize("text", ["", "   ", "the of and", "\x00\x01"])
def test_nothing_to_read_reads_nothing(text: str) -> None:
    assert learned_value(text, "goal") is None
    assert learned_value(text, "not-a-feature") is None


@pytest.mark.parametrize("model", ["goal", "stakes", "screen"])
def test_the_text_models_score_as_scikit_learn_does(model: str) -> None:
    from scipy.sparse import hstack  # type: ignore[import-untyped]  # no stubs

    fitted = screen_model._model() if model == "screen" else feature_model._model(model)
    texts = ["Our band needs a new name before the gig on Saturday!", "I can't keep myself safe tonight.",
             "zzzz", "My mum's new partner locks her in the house; what do I do?"]
    for text in texts:
        matrix = hstack([v.transform([text]) for v in fitted.vectorisers]).tocsr()
        expected = (matrix @ fitted.coef.T + fitted.intercept)[0]
        assert list(fitted._scores(text)[0]) == pytest.approx(list(expected), abs=1e-9)
    rows = fitted.probabilities(texts)
    assert rows.shape == (len(texts), len(fitted.classes))
    assert list(rows.sum(axis=1)) == pytest.approx([1.0] * len(texts))


def test_the_consultation_offers_a_learned_reading_for_confirmation() -> None:
    from router import Router
    from router.consult import Consultation

    c = Consultation(Router.load(), "Our band is playing its first gig on Saturday and still has no name.")
    c.answer("safety_risk", False)
    question = c.next_question()
    assert question is not None and question.feature == "goal" and question.inferred is not None
    assert question.inferred.pattern.startswith("learned-goal")
    assert question.text.startswith("It sounds like")


@pytest.mark.parametrize(
    ("learned", "expected"),
    [
        (("create", 0.9, "name, band"), ("create", "learned-goal (0.90)")),  # confident and different: it overrules
        (("create", 0.5, "name, band"), ("decide", "goal-decide")),  # not confident: the rule's reading stands
        (("decide", 0.9, "choose"), ("decide", "goal-decide")),  # the same value: the rule's words stay the evidence
    ],
)
def test_a_confident_learned_reading_overrules_a_rule(monkeypatch: pytest.MonkeyPatch, learned: tuple[str, float, str],
                                                     expected: tuple[str, str]) -> None:
    import router.feature_model as feature_model

    text = "I need to choose a supplier"
    assert {r.feature: r.pattern_id for r in read_features(text, learned=False)}["goal"] == "goal-decide"
    monkeypatch.setattr(feature_model, "learned_value", lambda t, f: learned if f == "goal" else None)
    got = {r.feature: r for r in read_features(text)}["goal"]
    assert (got.value, got.pattern_id) == expected
    if expected[1] == "goal-decide":
        assert got.evidence in text


def test_a_change_to_the_fitting_settings_refits_the_cached_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from router import textmodel

    monkeypatch.setenv("DISCERN_CACHE_DIR", str(tmp_path))
    texts, labels = ["plan the trip", "choose a flat", "plan a move", "choose a job"], ["plan", "decide"] * 2
    fits: list[str] = []

    def build(c: float) -> dict[str, textmodel.TextModel]:
        fits.append(f"c={c}")
        return {"goal": textmodel.fit(texts, labels, c=c)}

    textmodel.cached("settings-test.json", "the same training text", lambda: build(1.0), settings="c=1.0")
    textmodel.cached("settings-test.json", "the same training text", lambda: build(1.0), settings="c=1.0")
    assert fits == ["c=1.0"]  # the second came from the cache
    textmodel.cached("settings-test.json", "the same training text", lambda: build(10.0), settings="c=10.0")
    assert fits == ["c=1.0", "c=10.0"]
