"""The learned screen beside the rules: trained on the labelled statements, measured on a
held-out set (screen_heldout.yaml) that was never used to write rules, to train, or to choose
the model's settings."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import DATA

from router.screen import screen_text
from router.screen_model import TRAINING_FILE, learned_hit

WORDS = DATA / "words"


def texts(name: str, label: str = "items") -> list[str]:
    """The texts of a labelled file: its `items`, or its `risk` or `harmless` list."""
    data: Any = yaml.safe_load((WORDS / f"{name}.yaml").read_text())
    items = (data.get(label) or []) if isinstance(data, dict) else data
    return [i["text"] if isinstance(i, dict) else i for i in items]


# ordinary descriptions of a situation, less those that show a present risk of harm (`risk: true`)
DESCRIBED = ("described", "described_fresh", "described_unseen", "described_final", "described_extra", "described_more",
             "described_g", "described_h", "described_i", "described_j", "described_k")
TRAINED_ON = ("screen_fresh", "screen_more", "screen_unseen", "screen_train_a", "screen_train_b", "screen_ordinary",
              "screen_dev_c", "screen_dev_d", "screen_dev_e", "screen_panic", "screen_train_f", "screen_train_g",
              "screen_train_h", "screen_body", "screen_train_i")


def test_training_texts_are_the_labelled_texts() -> None:
    training = yaml.safe_load(TRAINING_FILE.read_text())
    assert training["risk"] == texts("risk") + [t for name in TRAINED_ON for t in texts(name, "risk")]
    ordinary = [i["text"] for name in DESCRIBED for i in yaml.safe_load((WORDS / f"{name}.yaml").read_text())["items"]
                if not i.get("risk")]
    assert training["harmless"] == (texts("harmless") + texts("offtopic") + ordinary
                                    + [t for name in TRAINED_ON for t in texts(name, "harmless")])
    held_out = (texts("screen_heldout", "risk") + texts("screen_heldout", "harmless")
                + texts("described_heldout") + texts("screen_heldout_l", "risk")
                + texts("screen_heldout_l", "harmless") + texts("described_heldout_l"))
    assert not set(held_out) & set(training["risk"] + training["harmless"])


def flagged(text: str) -> bool:
    return bool(screen_text(text)) or learned_hit(text) is not None


def test_rules_and_model_together_on_statements_never_seen() -> None:
    risk, harmless = texts("screen_heldout", "risk"), texts("screen_heldout", "harmless")
    assert len(risk) >= 150 and len(harmless) >= 150
    rules_alone = sum(bool(screen_text(t)) for t in risk)
    together = sum(flagged(t) for t in risk)
    false_alarms = sum(flagged(t) for t in harmless)
    # floors at what was measured (rules alone 121, rules and model 146 of 150 caught; 7 of
    # 150 false alarms)
    assert together > rules_alone and together >= 146
    assert false_alarms <= 7


def _described(name: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = yaml.safe_load((WORDS / f"{name}.yaml").read_text())["items"]
    return loaded


def test_ordinary_descriptions_never_seen_are_seldom_read_as_risk() -> None:
    items = _described("described_heldout")
    ordinary = [i["text"] for i in items if not i.get("risk")]
    at_risk = [i["text"] for i in items if i.get("risk")]
    assert len(ordinary) >= 130 and len(at_risk) >= 10
    # floors at what was measured: 4 of 137 ordinary descriptions read as risk, and each of the
    # 13 that show a present risk of harm (an overdose, choking, gas, a stroke...) read
    assert sum(flagged(t) for t in ordinary) <= 4
    assert all(flagged(t) for t in at_risk)


@pytest.mark.parametrize("name", DESCRIBED)
def test_each_description_marked_as_a_present_risk_is_read_as_one(name: str) -> None:
    assert all(flagged(i["text"]) for i in _described(name) if i.get("risk"))


def test_a_later_writer_never_seen() -> None:
    risk, harmless = texts("screen_heldout_l", "risk"), texts("screen_heldout_l", "harmless")
    assert len(risk) >= 120 and len(harmless) >= 180
    # floors at what was measured as written: rules alone 86 of 120 with 7 false alarms in 180;
    # rules and model 116 with 20
    assert sum(bool(screen_text(t)) for t in risk) >= 86
    assert sum(bool(screen_text(t)) for t in harmless) <= 7
    assert sum(flagged(t) for t in risk) >= 116 and sum(flagged(t) for t in harmless) <= 20


def test_the_model_never_clears_what_the_rules_found(monkeypatch: pytest.MonkeyPatch) -> None:
    from router import Router

    text = "I want to kill myself tonight."
    monkeypatch.setenv("DISCERN_SCREEN_MODEL", "off")
    assert learned_hit(text) is None
    d = Router.load().route({"description": text})
    assert d.tool == "seek-professional-help"


def test_a_learned_reading_is_shown_with_its_sentence() -> None:
    from router import Router

    d = Router.load().route({"description": "Work is fine. Honestly I've been giving my things away and "
                                            "saying my goodbyes to people lately."})
    reading = next(i for i in d.inferred if i.feature == "safety_risk")
    assert reading.source == "screen" and reading.evidence


def test_the_cached_model_scores_as_a_fresh_fit_and_a_broken_cache_is_refitted(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from router import screen_model

    monkeypatch.setenv("DISCERN_CACHE_DIR", str(tmp_path))
    probe = ["I've been giving my things away and saying goodbye", "The deadline is killing me", "Lunch?"]
    screen_model._model.cache_clear()
    fresh = screen_model._model().probability(probe, "risk")  # fits, and writes the cache
    cached_file = tmp_path / "screen-model.json"
    assert cached_file.exists()
    screen_model._model.cache_clear()
    cached = screen_model._model().probability(probe, "risk")  # read back from the cache
    assert list(cached) == pytest.approx(list(fresh), abs=1e-12)
    cached_file.write_text("{not json", encoding="utf-8")
    screen_model._model.cache_clear()
    assert list(screen_model._model().probability(probe, "risk")) == pytest.approx(list(fresh), abs=1e-12)
    assert cached_file.read_text(encoding="utf-8").startswith("{\"key\"")
    screen_model._model.cache_clear()
