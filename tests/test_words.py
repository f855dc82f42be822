"""Features read from the words: accuracy per feature on described.yaml, bad input, types."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from router.errors import ContextError
from router.words import (
    MAX_DESCRIPTION_CHARS,
    Reading,
    check_description,
    infer_from_description,
    is_probably_english,
    read_features,
    rule_ids,
    text_problem,
)

DATA = Path(__file__).parent / "data" / "words"
ORDINALS = {
    "stakes": {"trivial", "low", "moderate", "high", "critical"},
    "reversibility": {"irreversible", "costly", "easy"},
    "controllability": {"none", "partial", "full"},
    "experience": {"none", "some", "extensive"},
    "data_available": {"none", "little", "plenty"},
    "uncertainty": {"none", "risk", "ambiguity", "deep"},
    "goal": {"decide", "plan", "understand", "cope", "create"},
}
BOOLEANS = {"rumination", "fatigue", "trauma_activation", "interpersonal_conflict", "group", "values_conflict", "self_criticism"}


def _described() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((DATA / "described.yaml").read_text("utf-8"))["items"]
    return items


def same_value(feature: str, want: object, got: object) -> bool:
    """Numbers count as right within a tolerance: emotional intensity within 2 points, time
    within a factor of 2.5 (or 5 minutes), since words give an order of magnitude, not a clock."""
    if got is None:
        return False
    if feature == "emotional_intensity":
        return abs(float(got) - float(want)) <= 2  # type: ignore[arg-type]
    if feature == "time_available":
        w, g = float(want), float(got)  # type: ignore[arg-type]
        return abs(w - g) <= 5 or (g <= 2.5 * w and w <= 2.5 * g)
    return got == want


def accuracy(split: str | None) -> dict[str, tuple[int, int]]:
    seen: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in _described():
        if split is not None and item.get("split") != split:
            continue
        got = {r.feature: r.value for r in read_features(item["text"])}
        for feature, want in item["features"].items():
            seen[feature][0] += 1
            seen[feature][1] += same_value(feature, want, got.get(feature))
    return {f: (n, ok) for f, (n, ok) in seen.items()}


def test_described_set_is_large_enough() -> None:
    assert len(_described()) >= 250


def test_accuracy_per_feature_is_at_least_80_percent() -> None:
    low = {f: f"{ok}/{n}" for f, (n, ok) in accuracy(None).items() if n >= 5 and ok / n < 0.80}
    assert not low, low


def test_accuracy_on_holdout_does_not_collapse() -> None:
    # never tuned on: reported by the benchmark; here only a floor against regressions
    total_n = total_ok = 0
    for n, ok in accuracy("holdout").values():
        total_n += n
        total_ok += ok
    assert total_ok / total_n >= 0.75


def labelled_items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((DATA / f"{name}.yaml").read_text("utf-8"))["items"]
    return items


def accuracy_on(name: str) -> dict[str, tuple[int, int]]:
    """(labelled, right) per feature on one labelled set of descriptions."""
    seen: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in labelled_items(name):
        got = {r.feature: r.value for r in read_features(item["text"])}
        for feature, want in item["features"].items():
            seen[feature][0] += 1
            seen[feature][1] += same_value(feature, want, got.get(feature))
    return {f: (n, ok) for f, (n, ok) in seen.items()}


def test_fresh_descriptions_are_labelled() -> None:
    items = labelled_items("described_fresh")
    assert len(items) >= 120
    assert all("goal" in i["features"] and "stakes" in i["features"] for i in items)


# floors against regressions on the fresh set (the stakes, group and options rules were since
# adjusted on its wording, so these are not a measure of new wording: the unseen set is)
@pytest.mark.parametrize(
    ("feature", "floor"),
    [("goal", 0.91), ("stakes", 0.90), ("interpersonal_conflict", 0.96), ("group", 0.85), ("options", 0.85)],
)
def test_accuracy_on_fresh_descriptions(feature: str, floor: float) -> None:
    n, ok = accuracy_on("described_fresh")[feature]
    assert ok / n >= floor, f"{feature}: {ok}/{n}"


def test_unseen_descriptions_are_labelled() -> None:
    items = labelled_items("described_unseen")
    assert len(items) >= 100
    assert all("goal" in i["features"] and "stakes" in i["features"] for i in items)
    assert sum("group" in i["features"] for i in items) >= 25
    assert sum("options" in i["features"] for i in items) >= 25
    assert any(i["features"].get("options") == 0 for i in items)


# floors against regressions on the unseen set (the goal and stakes rules were since adjusted
# on its wording, so these are no longer a measure of new wording: the final set is)
@pytest.mark.parametrize(("feature", "floor"), [("stakes", 0.65), ("group", 0.86), ("options", 0.90), ("goal", 0.70)])
def test_accuracy_on_unseen_descriptions(feature: str, floor: float) -> None:
    n, ok = accuracy_on("described_unseen")[feature]
    assert ok / n >= floor, f"{feature}: {ok}/{n}"


@pytest.mark.parametrize(
    ("text", "feature", "value"),
    [
        ("I have two offers and must answer by tomorrow", "options", 2),
        ("I have two offers and must answer by tomorrow", "time_available", 1440.0),
        ("I have to decide in ten minutes", "time_available", 10.0),
        ("the launch is next month", "time_available", 43200.0),
        ("torn between Lisbon and Berlin", "options", 2),
        ("I'm at 8 out of 10 right now", "emotional_intensity", 8.0),
        ("I keep replaying the argument", "rumination", True),
        ("I keep replaying the argument", "interpersonal_conflict", True),
        ("I'm exhausted and haven't slept", "fatigue", True),
        ("I'm not tired at all", "fatigue", False),
        ("everything feels unreal since the crash", "trauma_activation", True),
        ("once we sign there's no going back", "reversibility", "irreversible"),
        ("it's out of my hands now", "controllability", "none"),
        ("I've never done this before", "experience", "none"),
        ("we have plenty of data on past projects", "data_available", "plenty"),
        ("I need to choose a supplier", "goal", "decide"),
        ("our team must vote on it", "group", True),
        ("my savings are riding on this, a life-changing move", "stakes", "high"),
        ("I've been on edge since the robbery", "trauma_activation", True),
    ],
)
def test_reads_feature(text: str, feature: str, value: object) -> None:
    got = {r.feature: r for r in read_features(text)}
    assert feature in got, got
    assert got[feature].value == value
    assert got[feature].evidence and got[feature].evidence in text


def test_negation_does_not_set_a_feature() -> None:
    got = {r.feature for r in read_features("I'm not exhausted, nobody is arguing, there are no flashbacks")}
    assert "rumination" not in got
    assert "interpersonal_conflict" not in got
    readings = {r.feature: r.value for r in read_features("I don't feel exhausted")}
    assert readings.get("fatigue") is not True


def test_values_are_typed_as_the_schema_says() -> None:
    for item in _described():
        features = [r.feature for r in read_features(item["text"])]
        assert len(features) == len(set(features))
        for r in read_features(item["text"]):
            if r.feature in ORDINALS:
                assert r.value in ORDINALS[r.feature]
            elif r.feature in BOOLEANS:
                assert isinstance(r.value, bool)
            elif r.feature == "options":
                assert isinstance(r.value, int) and not isinstance(r.value, bool) and r.value >= 0
            else:
                assert isinstance(r.value, float) and r.value >= 0
                if r.feature == "emotional_intensity":
                    assert r.value <= 10


# Kinds of wording a writer who had never seen the rules used (described_i.yaml), in other words.
LATER_KINDS = [
    ("The worry's at about a 7, but I'm managing", "emotional_intensity", 7.0),
    ("my stomach's in knots over the interview", "emotional_intensity", 7.0),
    ("We've trialled four and nobody agrees", "options", 4),
    ("Should I go to the wedding or not?", "options", 2),
    ("eight weeks to put a plan to the council", "time_available", 80640.0),
    ("Our residents' committee is planning the street party", "group", True),
    ("Blue or yellow for the shed? It's only paint", "reversibility", "easy"),
    ("Tenure isn't something you get back", "reversibility", "irreversible"),
    ("The lease is two years and breaking it costs a fortune", "reversibility", "costly"),
    ("I can't change the rota, only how I respond to it", "controllability", "partial"),
    ("The tribunal's decision is final", "controllability", "none"),
    ("no clue at all what anything costs in Lisbon", "data_available", "none"),
    ("The vet says it works in about 60% of cats", "data_available", "little"),
    ("I've got the last 18 months of bank statements", "data_available", "plenty"),
    ("Nobody can say how the market will look in a year", "uncertainty", "deep"),
    ("Everyone on the forums seems to say different things", "uncertainty", "ambiguity"),
    ("The surgeon puts it at a 30% chance of complications", "uncertainty", "risk"),
]


@pytest.mark.parametrize(("text", "feature", "value"), LATER_KINDS)
def test_reads_the_later_kinds_of_wording(text: str, feature: str, value: object) -> None:
    got = {r.feature: r.value for r in read_features(text, learned=False)}
    assert got.get(feature) == value, got


def test_every_rule_id_is_unique_and_some_example_reads_it() -> None:
    ids = [i for rules in rule_ids().values() for i in rules]
    assert len(ids) == len(set(ids))
    used = {r.pattern_id for item in _described() for r in read_features(item["text"], learned=False)}
    used |= {r.pattern_id for text, _, _ in LATER_KINDS for r in read_features(text, learned=False)}
    used.add("trauma-since-event")  # pinned in test_reads_feature: earlier rules catch the set's cases
    unused = (
        set(ids)
        - used
        - {
            "options-none",
            "rumination-none-stated",
            "trauma-none-stated",
            "conflict-none-stated",
            "time-no-rush",
            "time-the-next",
            "stakes-only-a",  # shifts a reading a step; the reading names the rule that set it
        }
    )
    assert not unused, unused


def test_inferred_entries_follow_the_contract() -> None:
    entries = infer_from_description("I can't go on like this and I have two options")
    assert entries[0]["feature"] == "safety_risk" and entries[0]["value"] is True and entries[0]["source"] == "screen"
    assert {e["source"] for e in entries[1:]} == {"words"}
    for e in entries:
        assert {"feature", "value", "evidence", "source"} <= set(e)
    assert infer_from_description("") == []


def test_check_description_cleans_and_refuses() -> None:
    assert check_description("line one\nline\ttwo\x00\x07") == "line one line two"
    for bad in ["", "   \n\t  ", "x" * (MAX_DESCRIPTION_CHARS + 1), "y" * 3_000_000]:
        with pytest.raises(ContextError) as err:
            check_description(bad)
        assert err.value.message == err.value.message.lower().rstrip(".")
    with pytest.raises(ContextError):
        check_description(None)


def test_text_problem_names_the_problem() -> None:
    assert text_problem("I have to choose a school") is None
    assert text_problem("") == "description is empty"
    assert text_problem("!!! ???") == "description has no words"
    assert "limit" in (text_problem("z" * (MAX_DESCRIPTION_CHARS + 1)) or "")


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("I have two job offers and I can't decide", True),
        ("help", True),
        ("Я не знаю, что делать со своей жизнью", False),
        ("我不知道该怎么办", False),
        ("Ich weiß nicht, ob ich den Job annehmen soll oder nicht", False),
        ("No sé si debo aceptar el trabajo nuevo", False),
        ("", False),
    ],
)
def test_is_probably_english(text: str, english: bool) -> None:
    assert is_probably_english(text) is english


@pytest.mark.parametrize(
    "text", ["im gonna kms", "idk wat 2 do anymore tbh", "ngl i wanna die lol", "u ok? i cant sleep"]
)
def test_slang_and_typos_read_as_english(text: str) -> None:
    assert is_probably_english(text)


@pytest.mark.parametrize(
    ("text", "goal"),
    [
        # the need named outweighs the feelings around it
        ("I'm anxious and exhausted, and I have to choose a flat by tomorrow", "decide"),
        ("I'm burned out but we need to organise the office move", "plan"),
        ("I'm confused and want to figure out why the results changed", "understand"),
        ("I'm nervous but I want to come up with ideas for the party", "create"),
        # with no need named, the feelings tell it
        ("I feel empty and useless since I lost my job", "cope"),
        # a negated word still names the need ("I can't decide" is deciding)
        ("I can't decide and I don't understand why", "decide"),
    ],
)
def test_goal_weighs_all_its_cues(text: str, goal: str) -> None:
    got = {r.feature: r for r in read_features(text, learned=False)}  # the rules: the learned reading may overrule them
    assert got["goal"].value == goal, got["goal"]
    assert got["goal"].evidence in text


def test_every_described_item_reads_as_english() -> None:
    assert all(is_probably_english(item["text"]) for item in _described())
    harmless = yaml.safe_load((DATA / "harmless.yaml").read_text("utf-8"))["items"]
    assert sum(is_probably_english(i["text"]) for i in harmless) >= len(harmless) - 3


def test_reading_is_frozen() -> None:
    r = Reading("goal", "decide", "decide", "goal-decide")
    with pytest.raises(AttributeError):
        r.value = "plan"  # type: ignore[misc]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_read_features_never_raises(text: str) -> None:
    assert isinstance(read_features(text), list)
    text_problem(text)
    is_probably_english(text)


def test_final_descriptions_are_labelled() -> None:
    items = labelled_items("described_final")
    assert len(items) >= 100
    assert all("goal" in i["features"] and "stakes" in i["features"] for i in items)


# floors just under the accuracy measured on descriptions the rules were never written or
# adjusted from (goal 79/100, stakes 52/100): both stay below the 80 % wanted
@pytest.mark.parametrize(("feature", "floor"), [("goal", 0.77), ("stakes", 0.50)])
def test_accuracy_on_final_descriptions(feature: str, floor: float) -> None:
    n, ok = accuracy_on("described_final")[feature]
    assert ok / n >= floor, f"{feature}: {ok}/{n}"


@pytest.mark.parametrize(
    "text",
    [
        "I'm in a total panic",
        "I'm freaking out",
        "I'm boiling with rage",
        "I'm losing it",
        "I had a complete meltdown at work",
        "I can't stop shaking",
    ],
)
def test_strong_arousal_reads_as_extreme_intensity(text: str) -> None:
    got = {r.feature: r.value for r in read_features(text)}
    assert got.get("emotional_intensity") == 9.0, got


@pytest.mark.parametrize("text", ["I'm fuming", "I'm furious with the landlord"])
def test_anger_reads_as_very_high_intensity(text: str) -> None:
    assert {r.feature: r.value for r in read_features(text)}.get("emotional_intensity") == 8.0


@pytest.mark.parametrize(
    "text", ["Honestly, I don't know which phone to get", "To be honest I'm not sure what to do", "In all honesty, pizza or pasta?"]
)
def test_honestly_as_a_sentence_adverb_is_no_values_conflict(text: str) -> None:
    assert "values_conflict" not in {r.feature for r in read_features(text)}


def test_honesty_as_a_value_still_reads() -> None:
    got = {r.feature: r.value for r in read_features("Do I stay honest with my boss about the mistake or cover for my friend?")}
    assert got.get("values_conflict") is True


@pytest.mark.parametrize("text", ["The storm will kill the tomatoes", "The frost could kill my plants", "The heat might kill the battery"])
def test_kill_about_plants_or_objects_is_not_critical(text: str) -> None:
    assert {r.feature: r.value for r in read_features(text)}.get("stakes") != "critical"


@pytest.mark.parametrize("text", ["He could die if we don't act", "The smoke could kill my dad"])
def test_a_life_at_risk_is_still_critical(text: str) -> None:
    assert {r.feature: r.value for r in read_features(text)}.get("stakes") == "critical"


@pytest.mark.parametrize(
    "text", ["I keep replaying the great goal we scored on Saturday", "I can't stop thinking about the lovely holiday we had"]
)
def test_replaying_something_pleasant_is_not_rumination(text: str) -> None:
    assert "rumination" not in {r.feature for r in read_features(text)}


@pytest.mark.parametrize(
    "text",
    [
        "I keep replaying that awful meeting",
        "I keep replaying the great goal we scored but we lost anyway and I can't sleep",
    ],
)
def test_replaying_something_that_hurts_is_rumination(text: str) -> None:
    assert {r.feature: r.value for r in read_features(text)}.get("rumination") is True


@pytest.mark.parametrize(
    "text", ["which job offer pays more", "which job offer pays 500 euros more", "Honestly, which job offer pays more?"]
)
def test_which_job_pays_more_is_not_trivial(text: str) -> None:
    assert {r.feature: r.value for r in read_features(text)}.get("stakes") == "high"


@pytest.mark.parametrize(
    "text",
    [
        "The company needs an answer by Friday",
        "the company is deciding whether to let me go",
        "I work at the company and must decide whether to stay",
    ],
)
def test_a_company_mentioned_is_not_a_group_deciding(text: str) -> None:
    assert {r.feature: r.value for r in read_features(text)}.get("group") is not True


def test_ones_own_company_deciding_is_a_group() -> None:
    assert {r.feature: r.value for r in read_features("our company has to pick a new supplier")}.get("group") is True


@pytest.mark.parametrize(
    "text",
    [
        "I freeze and go blank whenever someone raises their voice, like I did as a child when my father hit us",
        "I go blank whenever my boss shouts, it takes me back to my childhood",
    ],
)
def test_a_past_harm_still_felt_now_is_trauma_activation(text: str) -> None:
    got = {r.feature: r.value for r in read_features(text)}
    assert got.get("trauma_activation") is True, got


def test_going_blank_without_past_harm_is_not_trauma() -> None:
    assert "trauma_activation" not in {r.feature for r in read_features("My mind goes blank in exams")}


def test_skipping_rules_by_their_words_reads_what_searching_every_rule_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import router.words as words

    texts = [i["text"] for name in ("described", "described_fresh", "described_unseen", "risk", "harmless")
             for i in yaml.safe_load((DATA / f"{name}.yaml").read_text("utf-8"))["items"]]
    # an anchored rule ("tea or coffee" opening a sentence) that finds only a later sentence
    texts += ["Long week at work. Tea or coffee", "It is late. Pasta or rice tonight"]
    fast = [read_features(t, learned=False) for t in texts]
    slow_rules = tuple(
        dataclasses.replace(f, need=None, rules=tuple(dataclasses.replace(r, need=None) for r in f.rules))
        for f in words._load())
    assert any(f.need is not None for f in words._load())  # the shortcut is in use
    monkeypatch.setattr(words, "_load", lambda: slow_rules)
    assert [read_features(t, learned=False) for t in texts] == fast
