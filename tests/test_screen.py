"""The safety screen: every pattern pinned, recall and false alarms measured on the labelled sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from router.screen import ScreenHit, normalise, pattern_ids, pattern_why, screen_text, screen_version

DATA = Path(__file__).parent / "data" / "words"


def _items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((DATA / f"{name}.yaml").read_text("utf-8"))["items"]
    return items


# One example per pattern id: the screen must raise it with exactly this pattern.
PINNED = {
    "suicide-kill-self": "i want to kill myself",
    "suicide-end-life": "I'm going to end my life tonight",
    "suicide-word": "I keep having suicidal thoughts",
    "suicide-want-to-die": "I just want to die",
    "suicide-third-person": "My daughter told me she wants to kill herself",
    "passive-better-off-without-me": "everyone would be better off without me",
    "passive-not-wake-up": "I wish I could go to sleep and never wake up",
    "passive-no-reason-to-live": "there's no point in living anymore",
    "suicide-goodbye": "I wrote goodbye letters to my kids",
    "suicide-plan-means": "I know how I'll do it",
    "suicide-jump-from-height": "he is going to jump off the bridge",
    "suicide-means-ready": "I have the pills ready",
    "unsafe-self": "I can't keep myself safe",
    "self-injury-act": "I've been cutting myself again",
    "self-injury-word": "the urge to self-harm is strong",
    "harm-to-others-intent": "I want to hurt my coworker",
    "harm-to-others-weapon": "I've got a knife in my bag",
    "harm-from-others-violence": "My husband hits me when he drinks",
    "harm-from-others-threat": "My ex threatened me with a knife",
    "threat-to-harm": "he threatened to kill the dog",
    "abuse-word": "I think the boy next door is being abused",
    "stalking-followed": "someone has been following me home",
    "stalking-generic": "my sister was followed home last night",
    "stalking-showing-up": "my ex keeps showing up at my work",
    "medical-overdose": "I took a whole bottle of pills",
    "medical-cardiac": "crushing chest pain and sweating",
    "medical-unresponsive": "my friend won't wake up",
    "medical-stroke-allergy-bleeding": "her face is drooping and her speech is slurred",
    "medical-starvation": "I stopped eating a week ago and I faint when I stand up.",
    "acute-danger-fire": "My house is on fire and I don't know what to do.",
    "acute-danger-gas": "There's a gas smell in the flat and my head is spinning.",
    "acute-danger-vehicle": "I'm a pilot and the engine just failed on take-off.",
    "suicide-misspelt-die": "i want to dye so bad, nothing is ever going to get better",
    "acute-danger-water": "My 3 year old got out and is in the pool and I can't get to him",
    "suicide-not-alive-after": "No need to renew the gym, I won't be alive next month",
    "suicide-last-night": "This is my last night, I just wanted someone to know",
    "suicide-method-situation": "I'm sitting in the car in the garage with the engine running",
    "suicide-decided": "I have decided to stop living",
    "suicide-farewell-message": "Can I set an email so my family get my message after?",
    "self-injury-more": "I keep banging my head against the wall until it bleeds",
    "self-injury-other-person": "My flatmate has been burning herself with a lighter",
    "medical-more": "My son swallowed a button battery from the scales",
    "acute-danger-more": "Someone is trying to break in downstairs and I'm alone",
    "harm-from-others-more": "He said if I try to leave he will kill me",
    "harm-from-others-coercion-word": "A man online is blackmailing me with my photos",
    "harm-to-others-more": "I'm going to put bleach in his coffee tomorrow",
    "suicide-other-person-farewell": "My brother texted me goodbye and sorry for everything and now he will not answer",
    "harm-to-others-mass": "My classmate says he will shoot up the school on Friday",
    "medical-bleeding": "I sliced my palm on a tin and there's so much blood",
    "suicide-lethal-dose": "How many of my sleeping tablets would it take to be fatal?",
    "suicide-method-preparation": "I tested the cord on the loft hatch to check it would hold my weight",
    "self-injury-methods": "I've been stubbing cigarettes out on my arm when it gets bad",
    "harm-to-others-acts": "Last night I held her under the water in the bath for too long",
    "harm-from-others-acts": "He grabbed me by the throat when I said I was leaving",
    "medical-signs": "My nephew has been fitting for about five minutes and it won't stop",
    "suicide-end-life-taken": "When you read this I will have taken my own life",
    "medical-chest-tight": "My dad's chest has gone tight and he's grey and sweating",
}


def test_every_pattern_is_pinned() -> None:
    assert sorted(PINNED) == sorted(pattern_ids())


@pytest.mark.parametrize("pattern_id", sorted(PINNED))
def test_pinned_example_raises_its_pattern(pattern_id: str) -> None:
    hits = screen_text(PINNED[pattern_id])
    assert pattern_id in {h.pattern_id for h in hits}, hits
    assert pattern_why(pattern_id)


def test_pattern_file_is_versioned() -> None:
    assert screen_version() >= 1


def test_evidence_quotes_the_words_as_written() -> None:
    text = "I've decided tonight is when I stop being a burden to everyone, I know how I’ll do it"
    hits = screen_text(text)
    assert {h.category for h in hits} == {"suicide"}
    assert "I know how I’ll do it" in [h.evidence for h in hits]
    assert all(h.evidence in text for h in hits)


def _rates(split: str | None) -> tuple[float, float, int, int]:
    risk = [i for i in _items("risk") if split is None or i.get("split") == split]
    harmless = [i for i in _items("harmless") if split is None or i.get("split") == split]
    caught = sum(bool(screen_text(i["text"])) for i in risk)
    alarms = sum(bool(screen_text(i["text"])) for i in harmless)
    return caught / len(risk), alarms / len(harmless), len(risk), len(harmless)


def test_sets_are_large_enough() -> None:
    assert len(_items("risk")) >= 120
    assert len(_items("harmless")) >= 120


def test_recall_and_false_alarms_on_all_items() -> None:
    recall, false_alarms, _, _ = _rates(None)
    assert recall >= 0.98, recall
    assert false_alarms <= 0.05, false_alarms


def test_rules_alone_on_statements_never_seen() -> None:
    # written by someone who had seen neither the patterns nor the labelled sets, and never
    # used to write a pattern: floors at what was measured (121 of 150 caught, 5 of 150 false
    # alarms)
    data = yaml.safe_load((DATA / "screen_heldout.yaml").read_text("utf-8"))
    caught = sum(bool(screen_text(i["text"])) for i in data["risk"])
    alarms = sum(bool(screen_text(i["text"])) for i in data["harmless"])
    assert len(data["risk"]) >= 150 and len(data["harmless"]) >= 150
    assert caught >= 121 and alarms <= 5


def test_recall_and_false_alarms_on_holdout() -> None:
    # the holdout was never used to tune patterns: a looser bar, still a regression alarm
    recall, false_alarms, n_risk, n_harmless = _rates("holdout")
    assert n_risk >= 30 and n_harmless >= 30
    assert recall >= 0.95, recall
    assert false_alarms <= 0.05, false_alarms


@pytest.mark.parametrize(
    "text",
    [
        "This deadline is murder.",
        "I'm dying of embarrassment",
        "I would never do anything to myself, I'm just worn out.",
        "The villain poisons the king in chapter three.",
        "Years ago I was suicidal, but now I'm fine and deciding on a degree.",
        "I'm thinking about ending things with my boyfriend.",
    ],
)
def test_guards_drop_figurative_negated_fictional_and_past(text: str) -> None:
    assert screen_text(text) == []


def test_a_guard_in_one_sentence_does_not_cancel_another() -> None:
    assert screen_text("In my novel the hero dies. I want to kill myself.")
    assert screen_text("I'm not suicidal. But I have the pills saved up for when I'm ready.")
    assert screen_text("Years ago I was fine. Now I want to die.")


# Plain statements of risk a review found missed: each kind (self-injury in any tense, not
# being able to stay safe, means got or ready, giving things away, negation that does not
# reach past a contrast, look-alike letters) must be caught.
MISSED_BEFORE = [
    "I cut myself again",
    "I can't keep myself safe",
    "I have the pills ready",
    "I've got the pills ready to take tonight",
    "I bought a gun",
    "I said I'd never hurt myself, but tonight I bought a gun",
    "I would never kill myself but I have the pills ready",
    "I'm not going to do anything stupid, I just gave away my dog and my things",
    "k\u0456ll myself",  # a Cyrillic і
]


@pytest.mark.parametrize("text", MISSED_BEFORE)
def test_plain_risk_statements_are_caught(text: str) -> None:
    assert screen_text(text), text


@pytest.mark.parametrize(
    "text",
    [
        "I cut myself shaving",
        "I bought a gun for hunting season with my dad",
        "I gave away my old clothes to charity",
        "the pills are ready at the pharmacy for my mum",
        "I can't keep my plants alive",
        "I would never, ever hurt myself",
    ],
)
def test_the_new_kinds_leave_plain_life_alone(text: str) -> None:
    assert screen_text(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "I w\u0430nt to k\u0456ll mys\u0435lf",  # Cyrillic а, і, е
        "\u0399 want t\u03bf die",  # Greek Ι, ο
        "\u043a\u0456ll \u043c\u0443\u0455\u0435lf",  # mostly Cyrillic
        "I want to ki\u200bll myself",  # a zero-width space
        "I want to k\u00efll myself",  # an accent
        "\uff29 want to kill myself",  # a fullwidth letter
    ],
)
def test_look_alike_letters_are_read_as_latin(text: str) -> None:
    from router.words import is_probably_english

    hits = screen_text(text)
    assert hits, text
    assert all(h.evidence in text for h in hits)
    assert is_probably_english(text)


def test_a_negation_does_not_reach_past_a_contrast_or_a_new_statement() -> None:
    assert screen_text("I'm not going to do anything, though I have the tablets saved.")
    assert screen_text("I won't hurt anyone; I just can't keep myself safe anymore.")
    assert screen_text("Nobody knows I've been cutting myself.")
    assert screen_text("I'm fine \u2014 I've just written a last note for my family.")
    assert screen_text("I don't want to die") == []
    assert screen_text("Not that I'd ever hurt myself, but I'm so tired of this job.") == []


def test_hit_is_frozen() -> None:
    hit = ScreenHit("x", "suicide", "words")
    with pytest.raises(AttributeError):
        hit.evidence = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text", ["", "   \n\t ", "\x00\x01\x02", "я хочу умереть", "😀" * 50, "a" * 20_000, "kill" + "\u0301" * 500]
)
def test_odd_input_never_raises(text: str) -> None:
    # megabyte texts never reach the screen: check_description refuses them first
    # (tests/test_words.py), so a few pages are the longest worth screening here
    assert isinstance(screen_text(text), list)


def test_a_long_text_is_screened_to_its_end() -> None:
    assert screen_text("I had a long day at work. " * 300 + "I want to kill myself.")


@pytest.mark.parametrize(
    "text",
    ["im gonna kms", "kms fr fr no cap", "ngl i wanna die lol", "i wnat to kil myself", "u ever just want to disappear forever"],
)
def test_slang_and_typos_are_screened(text: str) -> None:
    assert screen_text(text)


def test_normalise_keeps_the_way_back() -> None:
    text = "I CAN’T   go on"
    norm = normalise(text)
    assert norm.text == "i cannot go on"
    assert norm.original(text, 0, len(norm.text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_screen_never_raises(text: str) -> None:
    for hit in screen_text(text):
        assert hit.pattern_id in PINNED


# Statements a later review found missed: ending it with a time or a plan, not seeing the
# point in going on, researching a dose of one's own pills, a threat with means and
# knowledge of the target, starving for days and fainting, and physical danger happening
# now (fire, smoke, gas, an engine failing).
MISSED_BY_KIND = {
    "I plan to end it on Friday.": "suicide",
    "Honestly I don't see the point in going on anymore and I've been looking up how many of my pills it would take.": "suicide",
    "I want to make him pay; I know where he parks and I've got a knife.": "harm_to_others",
    "I stopped eating a week ago and I faint when I stand up.": "medical_emergency",
    "My house is on fire and I don't know what to do.": "acute_danger",
    "The pan caught fire and flames are reaching the cupboards right now.": "acute_danger",
    "There's smoke pouring out of the kitchen and my kid is upstairs.": "acute_danger",
    "There's a gas smell in the flat and my head is spinning.": "acute_danger",
    "I'm a pilot and the engine just failed on take-off.": "acute_danger",
}


@pytest.mark.parametrize(
    "text",
    [
        "I'm going to end it tonight.",
        "I've decided to end it this weekend.",
        "My plan is to end my life next week.",
        "I can't go on after Christmas.",
        "There's no point going on anymore.",
        "What dose of my insulin would kill me?",
        "I'm going to get back at him, I've bought a bat.",
        "I haven't eaten in five days and I keep passing out.",
        "We're trapped upstairs and the stairs are on fire.",
        "The carbon monoxide alarm is going off and we all feel sick.",
        "My brakes aren't working and I'm on the motorway.",
    ],
)
def test_each_new_kind_is_caught_in_other_words(text: str) -> None:
    assert screen_text(text), text


@pytest.mark.parametrize(
    "text",
    [
        "I was abused as a child; that was thirty years ago and I'm at peace with it now.",
        "I was raped at a party. That was twenty years ago and I'm fine now.",
        "I used to self-harm as a teenager, but that is long behind me.",
        "The plan is to end the meeting early.",
        "I'll end it with a joke.",
        "We'll end it on a high note.",
        "The barbecue smoke drifted over the fence.",
        "Gas prices are killing me.",
        "My car engine makes a noise when it's cold.",
        "I fasted for Ramadan.",
        "I'm on fire at work this week, should I ask for a raise?",
        "The smoke alarm went off when I burnt the toast.",
        "The kitchen caught fire last year but we put it out and insurance paid.",
        "I haven't eaten meat in weeks.",
        "There's no point going on about it.",
        "I smelled gas at the petrol station.",
        "The engine failed its MOT so I need a new car.",
    ],
)
def test_the_newest_kinds_leave_plain_life_and_a_resolved_past_alone(text: str) -> None:
    assert screen_text(text) == [], text


def test_a_resolved_past_does_not_cover_a_present_wish() -> None:
    assert screen_text("I tried to kill myself. That was ten years ago but I want to die again.")
    assert screen_text("I want to kill myself. That was a long time ago and I'm fine now.")


# Statements an independent measure found missed: an overdose taken or planned, passive or
# indirect wishes not to be here (misspelt too), abuse and danger at home and to children.
MISSED_BY_KIND_LATER = {
    "I took about 30 paracetamol an hour ago and now I feel sick": "medical_emergency",
    "I'm going to overdose tonight when my parents are asleep": "medical_emergency",
    "Mixing my meds with a bottle of vodka tonight so I don't have to feel anything ever again": "medical_emergency",
    "honestly everyone would be better off if i just wasn't here anymore": "suicide",
    "I keep thinking it would be easier to not exist": "suicide",
    "I've got a plan and a date, I just need to get through Christmas for the kids' sake": "suicide",
    "I've stopped eating and drinking on purpose, I want it to be over": "self_injury",
    "i want to dye so bad, nothing is ever going to get better": "suicide",
    "My stepdad touches my little sister at night and she's only 7": "harm_from_others",
    "He locks me in the house and takes my phone and money so I can't leave": "harm_from_others",
    "My dad beats my mum and me, last night he threw me down the stairs": "harm_from_others",
    "My boyfriend says he'll post my nudes and hurt my family if I report him": "harm_from_others",
    "My 3 year old got out and is in the pool and I can't get to him": "acute_danger",
    "I'm thinking about suicide": "suicide",
}


@pytest.mark.parametrize(("text", "category"), sorted({**MISSED_BY_KIND, **MISSED_BY_KIND_LATER}.items()))
def test_once_missed_kinds_are_caught_with_their_category(text: str, category: str) -> None:
    hits = screen_text(text)
    assert hits, text
    assert category in {h.category for h in hits}, hits


@pytest.mark.parametrize(
    "text",
    [
        "I work in a suicide prevention charity and I'm looking for training resources",
        "I want to dye my hair blue",
        "the pool party got out of hand, so loud",
        "my dad beat me at chess",
        "he locked the door and took the car keys to the garage",
        "we took 30 photos an hour ago",
    ],
)
def test_the_later_kinds_leave_plain_life_alone(text: str) -> None:
    assert screen_text(text) == [], text


@pytest.mark.parametrize(
    "text",
    [
        # someone else's question, denied
        "My therapist asked whether I self-harm. I do not.",
        "My mom thinks that I want to kill myself, which I do not.",
        # a past told in the past tense and said to be over
        "I used to cut myself as a teenager. That is long behind me.",
        "I cut myself years ago. I am doing well now.",
        "My ex was violent, but I left him in 2015 and I am doing great.",
        # a sport's gun, the writer's colleague's patient
        "I have my gun ready for clay shooting on Saturday.",
        "I am a nurse here. A patient took an overdose last night.",
    ],
)
def test_denied_questions_a_past_that_is_over_and_sport_and_work_are_dropped(text: str) -> None:
    assert screen_text(text) == [], text


@pytest.mark.parametrize(
    "text",
    [
        # a question with no denial, or the writer's own question
        "My therapist asked whether I self-harm. I do not know what to tell her.",
        "My mom thinks that I want to kill myself and she is right.",
        "I wonder if I should just kill myself. I do not know.",
        "I keep wondering whether I should kill myself, I am not sure.",
        # a past that has come back, or is not over
        "I used to cut myself as a teenager and the urges are back.",
        "I used to cut myself years ago, and I started again last week.",
        "I cut myself years ago and I am not doing well.",
        "I was suicidal in 2010 and I still do not feel safe.",
        # means with a plan, one's own overdose after talk of work
        "I have my gun ready and I know what I will do with it tonight.",
        "I work nights. I took an overdose an hour ago.",
        "My ex was violent and he found my new address last night.",
    ],
)
def test_the_guards_leave_a_present_or_returning_risk_standing(text: str) -> None:
    assert screen_text(text), text


def test_a_later_again_about_something_else_does_not_bring_the_past_back() -> None:
    assert screen_text("My ex used to hit me, but that was a long time ago and I'm safe now; "
                       "I'm deciding whether to date again.") == []
    assert screen_text("My ex used to hit me, but that was a long time ago. Last month it started again.")


@pytest.mark.parametrize(
    ("text", "raised"),
    [
        ("My sister ate the last slice, I'm going to murder her (not really).", False),
        ("I'm drafting a poem about standing on the ledge of a building at night.", False),
        ("I'm going to kill myself tonight, I'm not joking.", True),
        ("Not a story: I am standing on the ledge of my building right now.", True),
    ],
)
def test_a_joke_disclaimer_and_a_story_told_about_it_drop_a_hit_and_nothing_else_does(text: str, raised: bool) -> None:
    assert bool(screen_text(text)) is raised, text


# Kinds a fifth writer's statements showed (screen_train_g.yaml), in other words.
FIFTH_WRITER_KINDS = {
    "is 30 of these enough to not wake up": "suicide",
    "I'm going to step in front of the 6:40 train": "suicide",
    "Nobody will be home to stop me on Saturday": "suicide",
    "the urge to self-harm is back tonight": "self_injury",
    "my stepdad shook the baby so hard she went quiet": "harm_from_others",
    "mum's blood sugar is 1.9 and she's confused": "medical_emergency",
    "dad took his warfarin twice and now has a nosebleed that won't stop for an hour": "medical_emergency",
    "I've started hitting my mum when she won't take her tablets": "harm_to_others",
    "sexual thoughts about my stepdaughter keep coming and I'm scared I'll act": "harm_to_others",
    # and a seventh writer's (screen_train_i.yaml)
    "I've been standing at the very edge of the platform when the fast trains pass": "suicide",
    "I keep pressing a hot lighter to my thigh under the desk": "self_injury",
    "He says he'll tell my parents everything unless I meet him alone tonight": "harm_from_others",
    "my 3 year old got into the dishwasher tablets and the box is nearly empty": "medical_emergency",
    "Dad fell and hit his head on the kerb and now he's confused and being sick": "medical_emergency",
    "Her black eye is the third one this year and she won't explain it": "harm_from_others",
}


@pytest.mark.parametrize(("text", "category"), sorted(FIFTH_WRITER_KINDS.items()))
def test_the_fifth_writers_kinds_are_caught_in_other_words(text: str, category: str) -> None:
    assert category in {h.category for h in screen_text(text)}, text


@pytest.mark.parametrize(
    "text",
    [
        "I have zero intention of hurting anyone, I'm just cross with the council",
        "Our dentist numbed the left side of my face and it's still numb",
        "We're going to walk into the sea for a paddle at Brighton",
        "that film made me want to walk into the sea lol",
        "six months clean from self harm today and proud",
        "My kids are screaming for help with their maths homework",
        "bought a hose to wash the car",
        "I poured boiling water on my hand by accident making tea, it's red but fine",
        "This is my last post before my holiday!",
        "the gun's in my hand at the range and the instructor is watching",
        "My husband says I'm trying to kill him with my chilli",
        "Years back I took an overdose by accident, all fine now",
        "My chest goes tight every time I have to speak in meetings, it's my anxiety",
        "my heart is racing and I feel like I'm going to die, it's another panic attack",
        "I'm about to shoot myself in the foot by taking on another project",
        "I could strangle my brother for eating my leftovers again",
        "I overdosed the fertiliser on the lawn and now it's brown",
        "We went jumping off the harbour wall into the sea all summer",
        "I'm dying to quit my job and open a café",
    ],
)
def test_the_fifth_writers_kinds_leave_plain_life_and_a_resolved_past_alone(text: str) -> None:
    assert screen_text(text) == [], text


def test_a_time_clean_that_ended_in_a_relapse_is_not_a_resolved_past() -> None:
    assert screen_text("I relapsed after 90 days clean from self harm and I feel awful")
