"""The learned screen beside the rules: trained on the labelled statements, measured on a
fresh set that was never used to write rules or to train."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import DATA

from router.screen import screen_text
from router.screen_model import TRAINING_FILE, learned_hit

WORDS = DATA / "words"


def texts(name: str) -> list[str]:
    data: Any = yaml.safe_load((WORDS / f"{name}.yaml").read_text())
    items = data["items"] if isinstance(data, dict) and "items" in data else data
    return [i["text"] if isinstance(i, dict) else i for i in items]


def test_training_texts_are_the_labelled_statements() -> None:
    training = yaml.safe_load(TRAINING_FILE.read_text())
    assert training["risk"] == texts("risk")
    assert training["harmless"] == texts("harmless") + texts("offtopic") + texts("described")
    fresh = yaml.safe_load((WORDS / "screen_fresh.yaml").read_text())
    assert not set(fresh["risk"] + fresh["harmless"]) & set(training["risk"] + training["harmless"])


def flagged(text: str) -> bool:
    return bool(screen_text(text)) or learned_hit(text) is not None


def test_rules_and_model_together_on_statements_never_seen() -> None:
    fresh = yaml.safe_load((WORDS / "screen_fresh.yaml").read_text())
    rules_alone = sum(bool(screen_text(t)) for t in fresh["risk"])
    together = sum(flagged(t) for t in fresh["risk"])
    false_alarms = sum(flagged(t) for t in fresh["harmless"])
    # floors at what was measured (29 and 39 of 60 caught; 7 of 60 false alarms)
    assert together > rules_alone and together >= 39
    assert false_alarms <= 7


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
