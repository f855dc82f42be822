"""The consultation: an interview that asks only what could change the choice.

A ``Consultation`` wraps a Router. It may start from a description in the person's own
words; then, one question at a time, it asks a feature with an answer that would change the
recommended tool (trying each feature's possible answers against the answers so far). It asks
about safety first; then, since guardrails come before scores, any feature with an answer that
would rule the leading tool out or fire a guardrail; then values read from the description, for
confirmation instead of asking them cold; then the core of the situation (what a person nearly
always can answer) before the rest, each group by the expected value of asking (the chance that
the answer changes the tool times the chance that the person can answer); and when no single
answer could change the tool but two together could, the first of that pair. It stops as soon
as the choice is settled:

- ``safety``: a risk of harm was raised (by an answer or by the description);
- ``robust``: no missing answer could change the tool (the decision's bounds);
- ``settled``: no feature still askable has an answer that would change the tool, alone or
  with one other open question (what could was answered "don't know" or skipped, or only
  three answers or more together could);
- ``budget``: the question budget is spent.

Answers given without being asked (the rest of an answers file) count in the decision:
``volunteer()`` takes them at the end, and ``questions_asked`` still lists only what was asked.
When the interview ends with a feature left open whose answer alone would rule the recommended
tool out (the budget ran out before it, or the person did not know), the decision says so in a
note ("not asked: trauma_activation, which would rule this tool out").

Nothing is recorded while the interview runs (the probes use a router without a store);
``conclude()`` routes the final context once and records that decision, notes included, when
the router records. There is no terminal I/O here: ``discern_cli.consult`` asks the questions.

>>> c = Consultation(Router.load(), description="I can't stop going over the argument")
>>> while (q := c.next_question()) is not None:
...     c.answer(q.feature, DONT_KNOW)
>>> c.conclude().tool, c.questions_asked, c.stop_reason
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .conditions import Compare, Condition, Junction, Member, Not, parse
from .decision import Decision, Inferred
from .errors import ContextError, DiscernError
from .features import UNKNOWN_WORDS, Feature, Value
from .policy import Policy
from .router import Router

# On the public vignettes (benchmarks/bench_consult.py) a budget of 8 reached the tool routing on
# every feature would pick in 84 % of interviews, 12 in 96 %, 20 in all of them (median 10
# questions, at most 17): the last questions are the pairs that change the tool only together,
# and the interview ends by itself before 20.
DEFAULT_BUDGET = 20
SAFETY_FEATURE = "safety_risk"
SAFETY_TOOL = "seek-professional-help"
DESCRIPTION = "description"

# The chance that a person can answer a feature's question, before asking: a product prior
# (people nearly always know what they need, how strongly they feel, what is at stake, how
# much time there is and whether it can be undone), not a fit to any test data. Features
# not listed get a chance that falls along the policy's schema order.
ANSWERABLE: dict[str, float] = {
    "goal": 0.95, "emotional_intensity": 0.95, "stakes": 0.9, "time_available": 0.9, "reversibility": 0.85,
}
CORE = 0.8  # features at least this likely to be answered are asked before the rest
# answers of each feature tried in the search for a pair that changes the tool only together
# (all of them in the search for a single answer): on the public vignettes 9 reach the same
# agreement and questions as all of them, and the longest wait for a question falls from 1.8 s
# to 0.9 s
PAIR_VALUES = 9

StopReason = Literal["safety", "robust", "settled", "budget"]

STOP_REASONS: dict[str, str] = {
    "safety": "a risk of harm was raised, so safety comes before anything else",
    "robust": "no answer still missing could change the choice",
    "settled": "no answer to a question still open, alone or with one other, would change the choice, "
               "so asking more would not help",
    "budget": "the question budget is spent",
}


class _Mark:
    """An answer that is not a value: "don't know", "skip", "yes, that's right", "no"."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


DONT_KNOW = _Mark("DONT_KNOW")
SKIP = _Mark("SKIP")
CONFIRM = _Mark("CONFIRM")  # to a confirmation: yes, that is right
REJECT = _Mark("REJECT")  # to a confirmation: no, that is wrong

Answer = _Mark | bool | int | float | str

_DONT_KNOW_WORDS = (UNKNOWN_WORDS - {""}) | {"dont know", "don't know", "idk", "dk", "not sure", "no idea", "dunno",
                                    "don't-know", "do not know", "i don't know", "i dont know"}
_SKIP_WORDS = {"", "s", "skip", "pass", "-", "next"}
_YES_WORDS = {"y", "yes", "yeah", "yep", "right", "correct", "true", "that's right", "it is", "ok"}
_NO_WORDS = {"n", "no", "nope", "wrong", "false", "not really", "it isn't", "no it isn't"}


# --- questions ------------------------------------------------------------------------------

# How a value read from the person's words is put back to them. Features not listed here
# get a plain sentence built from their name.
_SOUNDS_LIKE: dict[tuple[str, object], str] = {
    ("rumination", True): "you keep replaying the same thoughts",
    ("rumination", False): "you are not stuck replaying the same thoughts",
    ("fatigue", True): "you are exhausted or short of sleep",
    ("fatigue", False): "you are rested enough",
    ("interpersonal_conflict", True): "a conflict with someone is at the centre of this",
    ("interpersonal_conflict", False): "no conflict with anyone is at the centre of this",
    ("values_conflict", True): "this sets things you deeply value against each other",
    ("trauma_activation", True): "trauma reminders, flashbacks or feeling detached or unreal are part of this",
    ("group", True): "a group is making this decision together",
    ("group", False): "you are deciding this on your own",
    ("safety_risk", True): "someone may be at risk of harm",
    ("safety_risk", False): "nobody is at risk of harm",
    ("goal", "decide"): "you need to choose between options",
    ("goal", "plan"): "you need to plan or forecast",
    ("goal", "understand"): "you want to work out what is true",
    ("goal", "cope"): "you need to get through something hard",
    ("goal", "create"): "you want to come up with ideas",
    ("reversibility", "irreversible"): "there would be no way back if it goes wrong",
    ("reversibility", "costly"): "undoing it would be expensive or painful",
    ("reversibility", "easy"): "it could easily be undone",
    ("controllability", "none"): "nothing you do can change how this turns out",
    ("controllability", "partial"): "some of the outcome is in your hands",
    ("controllability", "full"): "the outcome is up to you",
}


def sounds_like(feature: Feature, value: Value) -> str:
    """A clause saying what a value means for a feature, for "It sounds like ...: is that right?"."""
    shown = feature.show(value)
    phrase = _SOUNDS_LIKE.get((feature.name, shown))
    if phrase:
        return phrase
    words = feature.name.replace("_", " ")
    if feature.name == "emotional_intensity":
        return f"you are feeling it at about {shown:g} out of 10" if isinstance(shown, (int, float)) else words
    if feature.name == "time_available" and isinstance(shown, (int, float)):
        return f"you have about {_minutes(float(shown))} before you must act"
    if feature.name == "stakes":
        return f"the stakes are {shown}"
    if feature.name == "options" and isinstance(shown, (int, float)):
        return "there are no options on the table yet" if shown == 0 else (
            f"there {'is' if shown == 1 else 'are'} {shown:g} option{'' if shown == 1 else 's'} on the table")
    if feature.name == "uncertainty":
        return {"none": "the outcome is known", "risk": "the odds can be estimated",
                "ambiguity": "the possible outcomes are known but not their odds",
                "deep": "you cannot list what might happen"}.get(str(shown), f"the uncertainty is {shown}")
    if feature.name == "data_available":
        return {"none": "there are no relevant numbers or records", "little": "there are a few relevant numbers",
                "plenty": "there are plenty of relevant numbers or records"}.get(str(shown), f"data: {shown}")
    if feature.name == "experience":
        return {"none": "you have no practice in this kind of situation",
                "some": "you have some practice in this kind of situation",
                "extensive": "you have a lot of practice in this kind of situation"}.get(str(shown), str(shown))
    if feature.kind == "boolean":
        return f"{words}: {'yes' if shown else 'no'}"
    if isinstance(shown, float):
        shown = f"{shown:g}"
    unit = f" {feature.unit}" if feature.unit else ""
    return f"{words} is {shown}{unit}"


def _minutes(minutes: float) -> str:
    if minutes >= 1440 and minutes % 1440 == 0:
        days = minutes / 1440
        return f"{days:g} day" + ("s" if days != 1 else "")
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes / 60
        return f"{hours:g} hour" + ("s" if hours != 1 else "")
    return f"{minutes:g} minute" + ("s" if minutes != 1 else "")


@dataclass(frozen=True)
class Question:
    """One question of a consultation: a schema question asked cold, or the confirmation
    of a value read from the description (``inferred`` set)."""

    feature: str
    text: str
    help: str | None
    kind: str
    choices: tuple[str, ...]  # levels, or ("yes", "no") for a yes/no question; () for numbers
    domain: str  # what the feature takes, in words
    number: int  # 1 for the first question
    inferred: Inferred | None = None
    spec: Feature | None = field(default=None, repr=False, compare=False)

    @property
    def is_confirmation(self) -> bool:
        return self.inferred is not None

    def parse(self, text: str) -> Answer:
        """The answer a person's typed ``text`` means: a value, DONT_KNOW, SKIP, or for a
        confirmation CONFIRM or REJECT. Raises ContextError when it fits none of them."""
        raw = " ".join(text.strip().split())
        word = raw.lower().replace("\u2019", "'")
        if word in _SKIP_WORDS:
            return SKIP
        if word in _DONT_KNOW_WORDS:
            return DONT_KNOW
        if self.is_confirmation and word in _YES_WORDS:
            return CONFIRM
        if self.is_confirmation and word in _NO_WORDS:
            return REJECT
        assert self.spec is not None
        feature = self.spec
        if feature.kind == "boolean":
            if word in _YES_WORDS:
                return True
            if word in _NO_WORDS:
                return False
            raise ContextError(f"`{raw}` is not an answer to a yes-or-no question",
                               hint="answer yes or no, ? if you don't know, or skip")
        if feature.levels:
            if word.isdigit() and 1 <= int(word) <= len(feature.levels):
                return feature.levels[int(word) - 1]
            exact = [level for level in feature.levels if level.lower() == word]
            if exact:
                return exact[0]
            starts = [level for level in feature.levels if level.lower().startswith(word)]
            if len(starts) == 1:
                return starts[0]
            choices = ", ".join(feature.levels)
            raise ContextError(f"`{raw}` is not one of the answers", hint=f"answer one of {choices} "
                               f"(or its number), ? if you don't know, or skip")
        if feature.kind in ("number", "integer"):
            checked = feature.check(raw)  # raises a ContextError saying what is wrong
            return feature.show(checked)
        return raw


# --- the values worth trying for a feature ---------------------------------------------------

def _compares(tree: Condition) -> Iterable[Compare]:
    if isinstance(tree, Compare):
        yield tree
    elif isinstance(tree, Not):
        yield from _compares(tree.operand)
    elif isinstance(tree, Junction):
        for operand in tree.operands:
            yield from _compares(operand)
    elif isinstance(tree, Member):
        return


def numeric_thresholds(policy: Policy) -> dict[str, set[float]]:
    """Every number a condition of the policy compares a feature with, by feature."""
    texts = [clause.when for tool in policy.tools.values() for clause in tool.clauses]
    texts += [rule.spec.when for rule in policy.rules]
    found: dict[str, set[float]] = {}
    for text in set(texts):
        try:
            tree = parse(text)
        except DiscernError:  # the loader has checked every condition; this cannot happen
            continue
        for node in _compares(tree):
            if node.value.is_number and node.feature in policy.features:
                found.setdefault(node.feature, set()).add(float(node.value.text))
    return found


def representative_values(feature: Feature, thresholds: Iterable[float] = ()) -> list[Value]:
    """A few answers that between them reach every case the policy distinguishes: each
    level, true and false, or for a number each threshold and a value on either side."""
    if feature.kind == "boolean":
        return [True, False]
    if feature.levels:
        return list(feature.levels)
    if feature.kind not in ("number", "integer"):
        return []
    low = -math.inf if feature.minimum is None else feature.minimum
    high = math.inf if feature.maximum is None else feature.maximum
    cuts = sorted(t for t in set(thresholds) if low <= t <= high)
    if not cuts:
        return []
    step = 1.0 if feature.kind == "integer" or all(float(t).is_integer() for t in cuts) else 0.1
    # one answer on each threshold and one inside each stretch between them: every case a
    # comparison can tell apart, each tried once
    values: list[float] = [cuts[0] - step] + [x for a, b in itertools.pairwise(cuts) for x in (a, (a + b) / 2)]
    values += [cuts[-1], cuts[-1] + step]
    if feature.kind == "integer":
        values = [math.floor(v) for v in values]
    kept = sorted({v for v in values if low <= v <= high})
    return [int(v) if feature.kind == "integer" else v for v in kept]


# --- the safety card -----------------------------------------------------------------------

_SAFETY_FACTS = (
    ("If anyone is in immediate danger, call your local emergency number now: 112 across the European "
     "Union and in many other countries, 911 in the US and Canada, 999 in the UK. If you do not know "
     "yours, search for your country's emergency number; from a mobile phone, 112 often works too."),
    "To find a crisis line in your country, look at findahelpline.com.",
    "Discern is not professional care: it cannot assess risk or treat anyone, and a trained person can.",
)


@dataclass(frozen=True)
class SafetyCard:
    """What to do when a risk of harm is raised, from the policy's safety tool."""

    title: str
    steps: tuple[str, ...]

    def text(self) -> str:
        return "\n".join([self.title, *(f"{n}. {step}" for n, step in enumerate(self.steps, start=1))])


def safety_card(policy: Policy) -> SafetyCard:
    """The safety card: the emergency number, a directory of crisis lines, and that Discern
    is not professional care, in the words of the policy's safety tool where it has them."""
    targets = [r.spec.targets[0] for r in sorted(policy.rules, key=lambda r: (-r.spec.priority, r.order))
               if r.spec.locked and r.spec.action == "require"]
    tool = policy.tools.get(SAFETY_TOOL) or next((policy.tools[t] for t in targets if t in policy.tools), None)
    steps = [str(step) for step in tool.spec.how_to] if tool is not None and tool.spec.how_to else []
    joined = " ".join(steps)
    for fact, marks in zip(_SAFETY_FACTS, (("112", "911", "999"), ("findahelpline",), ("not professional care",))):
        if not all(mark in joined for mark in marks):
            steps.append(fact)
    return SafetyCard("Your safety comes first. Please reach trained help now.", tuple(steps))


# --- the interview -------------------------------------------------------------------------

@dataclass(frozen=True)
class Exchange:
    """One question and the answer it got."""

    feature: str
    answer: Answer
    confirmation: bool

    def to_dict(self) -> dict[str, Any]:
        shown: Any = self.answer
        if isinstance(self.answer, _Mark):
            shown = {DONT_KNOW: "don't know", SKIP: "skip", CONFIRM: "yes", REJECT: "no"}[self.answer]
        return {"feature": self.feature, "answer": shown, "confirmation": self.confirmation}


class Consultation:
    """An interview over a Router: ``next_question()`` until it returns None, each
    answered with ``answer(feature, value | DONT_KNOW | SKIP)`` (or CONFIRM / REJECT for a
    confirmation); then ``conclude()`` for the decision, recorded once if the router records."""

    def __init__(self, router: Router, description: str | None = None, *, budget: int = DEFAULT_BUDGET) -> None:
        if budget < 0:
            raise DiscernError("the question budget cannot be negative")
        self.router = router
        self.policy: Policy = router.policy
        self._probe = copy.copy(router)  # the same routing, never recording
        self._probe.audit = None
        self.description = description.strip() if description and description.strip() else None
        self.budget = budget
        self._given: dict[str, Value] = {}  # answers, as shown (level names)
        self._closed: set[str] = set()  # don't know, skip, or a confirmation kept
        self._rejected: set[str] = set()  # a reading of the words the person said was wrong
        self._asked: list[str] = []
        self._volunteered: list[str] = []  # answers taken without a question (volunteer())
        self._rule_out: list[tuple[str, bool]] = []  # (feature, asked) left open that would exclude the tool
        self._exchanges: list[Exchange] = []
        self._current: Question | None = None
        self._follow_up: str | None = None
        self._stop: StopReason | None = None
        self._final: Decision | None = None
        self._cache: dict[tuple[Any, ...], Decision] = {}
        self._thresholds = numeric_thresholds(self.policy)
        self._values: dict[str, list[Value]] = {
            f.name: representative_values(f, self._thresholds.get(f.name, ())) for f in self.policy.features}
        self._safety = safety_feature(self.policy)
        self._order = {f.name: i for i, f in enumerate(self.policy.features) if f.kind != "text"}
        self._readings: dict[str, Inferred] = {}
        if self.description is not None:
            for item in self._route({DESCRIPTION: self.description}).inferred:
                if item.feature in self.policy.features and item.feature not in self._readings:
                    self._readings[item.feature] = item

    # -- what the interview knows --------------------------------------------------------------

    @property
    def questions_asked(self) -> list[str]:
        """The features asked, in order, confirmations included."""
        return list(self._asked)

    @property
    def volunteered(self) -> list[str]:
        """The features answered without being asked (``volunteer()``), in schema order."""
        return list(self._volunteered)

    @property
    def exchanges(self) -> list[Exchange]:
        return list(self._exchanges)

    @property
    def readings(self) -> dict[str, Inferred]:
        """The values read from the description, by feature."""
        return dict(self._readings)

    @property
    def stop_reason(self) -> StopReason | None:
        """Why the interview stopped, or None while a question is still worth asking."""
        if self._current is None and self._stop is None:
            self.next_question()
        return self._stop

    @property
    def finished(self) -> bool:
        return self.stop_reason is not None

    def context(self, extra: Mapping[str, Value] | None = None) -> dict[str, object]:
        """The context routed now: the answers, and the description that the readings come from."""
        context: dict[str, object] = {}
        if self.description is not None:
            if self._rejected - set(self._given):
                # A reading the person said is wrong, with nothing given in its place: route
                # without the description so that it cannot come back, keeping the readings
                # they did not reject as if given.
                for name, item in self._readings.items():
                    if name not in self._rejected and item.source == "words":
                        context[name] = self.policy.features[name].show(item.value)
            else:
                context[DESCRIPTION] = self.description
        context.update(self._given)
        if extra:
            context.update(extra)
        return context

    @property
    def decision(self) -> Decision:
        """The decision for what is known now (not recorded)."""
        return self._route(self.context())

    @property
    def safety_raised(self) -> bool:
        return _safety_raised(self.decision)

    def safety(self) -> SafetyCard | None:
        """The safety card when a risk of harm was raised, else None."""
        return safety_card(self.policy) if self.safety_raised else None

    def _route(self, context: Mapping[str, object]) -> Decision:
        key = tuple(sorted((k, repr(v)) for k, v in context.items()))
        found = self._cache.get(key)
        if found is None:
            found = self._probe.route(context)
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = found
        return found

    # -- choosing the next question ------------------------------------------------------------

    def next_question(self) -> Question | None:
        """The question most worth asking now, or None when the interview is over (see
        ``stop_reason``). Asking again before answering returns the same question."""
        if self._current is not None:
            return self._current
        if self._stop is not None:
            return None
        decision = self.decision
        if _safety_raised(decision):
            return self._stop_with("safety")
        if len(self._asked) >= self.budget:
            return self._stop_with("budget")
        if self._follow_up is not None:
            name, self._follow_up = self._follow_up, None
            return self._ask(name, confirm=False)
        safety = self._safety
        if safety is not None and self._askable(safety) and not self._settled_by_words(safety):
            return self._ask(safety, confirm=self._confirmable(safety))
        best = self._most_decisive(decision)
        if best is None:
            return self._stop_with("robust" if decision.robust else "settled")
        return self._ask(best, confirm=self._confirmable(best))

    def _askable(self, name: str) -> bool:
        feature = self.policy.features[name]
        return feature.kind != "text" and name not in self._given and name not in self._closed

    def _confirmable(self, name: str) -> bool:
        item = self._readings.get(name)
        return item is not None and item.source == "words" and name not in self._rejected

    def _settled_by_words(self, name: str) -> bool:
        """The screen's readings fire whatever is answered, so they are not asked about."""
        item = self._readings.get(name)
        return item is not None and item.source == "screen"

    def _tried(self, name: str) -> list[Value]:
        """The answers of a feature worth trying now (a reading of the words is tried
        against its alternatives)."""
        values = self._values.get(name, [])
        if self._confirmable(name):
            read = self.policy.features[name].show(self._readings[name].value)
            values = [v for v in values if v != read]
        return values

    def flips(self, name: str) -> tuple[int, int]:
        """How many of the feature's representative answers change the recommended tool now,
        out of how many tried (a reading of the words is tried against its alternatives)."""
        current = self.decision.tool
        values = self._tried(name)
        changed = sum(1 for v in values if self._route(self.context({name: v})).tool != current)
        return changed, len(values)

    def guards(self, name: str) -> bool:
        """Whether some answer of the feature changes the tool by a guardrail rather than by
        the scores: it rules the leading tool out (one of its own `exclude` limitations, or
        a `forbid`), or it fires a guardrail that has not fired yet."""
        now = self.decision
        fired = set(now.rules_fired)
        for value in self._tried(name):
            probe = self._route(self.context({name: value}))
            if probe.tool == now.tool:
                continue
            if _rules_out(probe, now.tool) or not set(probe.rules_fired) <= fired:
                return True
        return False

    def answerable(self, name: str) -> float:
        """The prior chance that a person can answer the feature's question: high for the
        core of the situation (what they need, how strongly they feel it, what is at stake,
        how much time there is, whether it can be undone), lower down the schema's order."""
        known = ANSWERABLE.get(name)
        if known is not None:
            return known
        order = self._order.get(name, len(self._order))
        return 0.5 - 0.25 * order / max(1, len(self._order) - 1)

    def worth(self, name: str) -> float:
        """The expected value of asking: the chance that the answer changes the recommended
        tool (the share of its answers that change it now) times the chance that the person
        can answer. 0 when no answer of it changes the tool."""
        changed, tried = self.flips(name)
        if not changed:
            return 0.0
        return (changed / tried) * (1.0 if self._confirmable(name) else self.answerable(name))

    def _most_decisive(self, decision: Decision) -> str | None:
        """The askable feature most worth asking. Guardrails come before scores: first a
        feature with an answer that would rule the leading tool out or fire a guardrail
        (``guards``: asking it later could only waste the budget on scores that answer
        overturns); then a reading of the words whose alternatives would change the tool
        (the choice rests on it, and a yes is cheap); then the core of the situation (the
        features a person nearly always can answer, ``CORE``); then the rest. Each group goes
        by the expected value of asking (``worth``), so that the screens a person often
        cannot answer come after what they can. A feature with an answer that changes the
        tool now (an exact single-feature flip) comes first; when there is none and the
        decision is not robust, a feature that changes it together with one other open
        question (``_pair_lead``). None when neither is left."""
        candidates = [f.name for f in self.policy.features
                      if self._askable(f.name) and (f.name not in decision.context or self._confirmable(f.name))
                      and not self._settled_by_words(f.name)]
        best: tuple[float, ...] | None = None
        chosen: str | None = None
        for order, name in enumerate(candidates):
            value = self.worth(name)
            if value <= 0:
                continue
            confirmable = self._confirmable(name)
            core = confirmable or self.answerable(name) >= CORE
            key = (float(self.guards(name)), float(confirmable), float(core), value, -order)
            if best is None or key > best:
                best, chosen = key, name
        if chosen is None and not decision.robust:
            chosen = self._pair_lead(decision, candidates)
        return chosen

    def _pair_lead(self, decision: Decision, candidates: list[str]) -> str | None:
        """The feature to ask first of the pair of open questions most likely to change the
        tool together, when no single answer can: experience and how regular the situation
        is may make a trained gut call right only together. A pair is worth the share of its
        answer combinations that change the tool times the chance that both can be answered;
        of the pair, the one more often answerable is asked first (a "don't know" to it
        leaves the other unasked), and a pair led by the core of the situation before the
        rest. None when no pair changes the tool."""
        current = decision.tool
        # the decision's bounds list every missing feature that could change the choice in any
        # combination (an over-estimate, never an under-estimate): no other can be in a pair
        could = set(decision.unknowns)
        candidates = [name for name in candidates if name in could]
        best: tuple[float, float, int] | None = None
        chosen: str | None = None
        for i, first in enumerate(candidates):
            for second in candidates[i + 1:]:
                values_a, values_b = _spread(self._tried(first)), _spread(self._tried(second))
                if not values_a or not values_b:
                    continue
                changed = sum(1 for a in values_a for b in values_b
                              if self._route(self.context({first: a, second: b})).tool != current)
                if not changed:
                    continue
                value = changed / (len(values_a) * len(values_b)) * self.answerable(first) * self.answerable(second)
                lead = first if self.answerable(first) >= self.answerable(second) else second
                key = (float(self.answerable(lead) >= CORE), value, -i)
                if best is None or key > best:
                    best, chosen = key, lead
        return chosen

    def _ask(self, name: str, *, confirm: bool) -> Question:
        feature = self.policy.features[name]
        number = len(self._asked) + 1
        if feature.kind == "boolean":
            choices: tuple[str, ...] = ("yes", "no")
        else:
            choices = tuple(feature.levels)
        if confirm:
            item = self._readings[name]
            text = f"It sounds like {sounds_like(feature, item.value)}: is that right?"
            help_text = (f"yes, no, or another answer ({feature.describe_domain()})"
                         if feature.kind != "boolean" else "yes or no")
            self._current = Question(name, text, help_text, feature.kind, choices, feature.describe_domain(),
                                     number, inferred=item, spec=feature)
        else:
            text = feature.question or f"What is {name.replace('_', ' ')}?"
            self._current = Question(name, text, feature.help, feature.kind, choices, feature.describe_domain(),
                                     number, spec=feature)
        return self._current

    def _stop_with(self, reason: StopReason) -> Question | None:
        """Stop the interview (``next_question`` returns None from now on)."""
        self._stop = reason
        return None

    # -- answers ---------------------------------------------------------------------------------

    def answer(self, feature: str, value: Answer) -> None:
        """Take an answer to the current question (or a volunteered one). A value is
        checked against the schema (ContextError when it does not fit); DONT_KNOW or SKIP
        closes the feature; to a confirmation, CONFIRM or DONT_KNOW keeps the reading and
        REJECT (or another value) replaces it."""
        if self._final is not None:
            raise DiscernError("the consultation is over")
        if feature not in self.policy.features or self.policy.features[feature].kind == "text":
            raise ContextError(f"`{feature}` is not a question of this consultation")
        spec = self.policy.features[feature]
        question = self._current if self._current is not None and self._current.feature == feature else None
        confirming = question is not None and question.is_confirmation
        if value is CONFIRM or value is REJECT:
            if not confirming:
                raise ContextError(f"`{feature}` was not offered for confirmation",
                                   hint="answer with a value, don't know, or skip")
        elif not isinstance(value, _Mark):
            value = spec.show(spec.check(value))
        # the answer is valid: take it
        if question is not None:
            self._asked.append(feature)
            self._current = None
        self._exchanges.append(Exchange(feature, value, confirming))
        self._stop = None
        if value is DONT_KNOW or value is SKIP or value is CONFIRM:
            # an unsure answer to a confirmation keeps the reading, as route would use it
            self._closed.add(feature)
        elif value is REJECT:
            item = self._readings[feature]
            if spec.kind == "boolean":
                self._given[feature] = not bool(item.value)
            else:
                self._rejected.add(feature)
                self._follow_up = feature
        else:
            self._given[feature] = value  # type: ignore[assignment]  # checked above: a Value
            self._rejected.discard(feature)
        self._final = None

    def volunteer(self, answers: Mapping[str, object]) -> list[str]:
        """Take answers the person gave without being asked (the rest of an answers file):
        each counts in the decision as given, and none is a question asked. A feature
        already answered keeps its answer; "don't know" (None or an unknown word) and the
        description are passed over. Raises ContextError for a value that does not fit.
        Returns the features taken, in schema order. Meant for the end of the interview:
        it does not reopen it."""
        if self._final is not None:
            raise DiscernError("the consultation is over")
        taken: list[str] = []
        for feature in self.policy.features:
            name = feature.name
            if feature.kind == "text" or name == DESCRIPTION or name in self._given or name not in answers:
                continue
            raw = answers[name]
            if raw is None or isinstance(raw, _Mark) or (isinstance(raw, str) and raw.strip().lower() in UNKNOWN_WORDS):
                continue
            try:
                value = feature.show(feature.check(raw))
            except ContextError as error:
                problem = error.problems[0]
                raise ContextError(f"answer for `{name}`: {problem.message}", hint=problem.hint) from None
            self._given[name] = value
            self._rejected.discard(name)
            taken.append(name)
        self._volunteered += [name for name in taken if name not in self._volunteered]
        return taken

    # -- the end ---------------------------------------------------------------------------------

    def conclude(self) -> Decision:
        """The decision for everything answered, routed once and recorded once if the
        router records. When a feature left open would, by its answer alone, rule the
        recommended tool out, the decision carries a note saying so (``would_rule_out``).
        Later calls return the same decision."""
        if self._final is None:
            if self._current is not None and self._stop is None:
                self._current = None  # stopped early by the caller
            context = self.context()
            decision = self._probe.route(context)  # a fresh decision: the notes go into it
            self._rule_out = self._open_exclusions(decision)
            for name, asked in self._rule_out:
                decision.notes.append(f"{'not known' if asked else 'not asked'}: {name}, which would rule "
                                      f"this tool out")
            if self.router.audit is not None:
                self.router.audit.record(decision, given=context)
            self._final = decision
        return self._final

    @property
    def would_rule_out(self) -> list[str]:
        """The features left open (never asked, or answered "don't know") with an answer that
        alone would rule the concluded tool out; empty before ``conclude()``."""
        return [name for name, _ in self._rule_out]

    def _open_exclusions(self, decision: Decision) -> list[tuple[str, bool]]:
        """(feature, asked) for each feature absent from the decision's context with an
        answer that would exclude the decision's tool (its own limitation or a `forbid`)."""
        tool = decision.tool
        chosen = decision.score_of(tool)
        if tool is None or chosen is None:
            return []
        names: set[str] = set()
        for clause in chosen.maybe_excluded_by:
            names |= clause.features
        for rule in self.policy.rules:
            if rule.spec.action == "forbid" and tool in rule.spec.targets and rule.id not in decision.rules_fired:
                names |= rule.features
        context = self.context()
        found: list[tuple[str, bool]] = []
        for feature in self.policy.features:
            name = feature.name
            if name not in names or name in decision.context or feature.kind == "text":
                continue
            values = self._values.get(name, [])
            if any(_rules_out(self._route({**context, name: v}), tool) for v in values):
                found.append((name, name in self._asked))
        return found

    def to_dict(self) -> dict[str, Any]:
        """The decision as ``route --json`` prints it, with the interview: ``questions_asked``,
        ``answers``, ``stopped_because`` and ``safety`` (the card's text, or null)."""
        decision = self._final if self._final is not None else self.decision
        result = decision.to_dict()
        card = safety_card(self.policy) if _safety_raised(decision) else None
        result["questions_asked"] = self.questions_asked
        result["answers"] = [e.to_dict() for e in self._exchanges]
        result["volunteered"] = self.volunteered
        result["would_rule_out"] = [{"feature": name, "asked": asked} for name, asked in self._rule_out]
        result["stopped_because"] = self._stop
        result["question_budget"] = self.budget
        result["safety"] = card.text() if card is not None else None
        return result


def _spread(values: list[Value], most: int = PAIR_VALUES) -> list[Value]:
    """At most ``most`` of ``values``, evenly spread and keeping both ends: a number's answers
    (up to 27, either side of each threshold) tried against another number's would otherwise
    cost hundreds of routings for one pair."""
    if len(values) <= most:
        return values
    step = (len(values) - 1) / (most - 1)
    return [values[round(i * step)] for i in range(most)]


def safety_feature(policy: Policy) -> str | None:
    """The feature that says a risk of harm is present: `safety_risk`, or in a policy without
    it the one yes/no feature of its highest locked `require` guardrail."""
    if SAFETY_FEATURE in policy.features:
        return SAFETY_FEATURE
    locked = sorted((r for r in policy.rules if r.spec.locked and r.spec.action == "require"),
                    key=lambda r: (-r.spec.priority, r.order))
    for rule in locked:
        if len(rule.features) == 1:
            (name,) = rule.features
            if policy.features[name].kind == "boolean":
                return name
    return None


def _rules_out(decision: Decision, tool: str | None) -> bool:
    """Whether the decision rules ``tool`` out (an `exclude` limitation or a `forbid`)."""
    score = decision.score_of(tool)
    return score is not None and score.excluded_by is not None


def _safety_raised(decision: Decision) -> bool:
    """Whether a risk of harm is part of this decision: given, read from the words, or a
    guardrail on it fired."""
    name = safety_feature(decision.policy)
    if name is None:
        return False
    if decision.context.get(name) is True:
        return True
    for item in decision.inferred:
        if item.feature == name and item.value is True and (item.used or item.source == "screen"):
            return True
    for rule in decision.policy.rules:
        if rule.id in decision.rules_fired and name in rule.features and rule.spec.action == "require":
            return True
    return False


# --- scripted answers ----------------------------------------------------------------------

Respond = Callable[[Question], Answer]


def answers_from(mapping: Mapping[str, object]) -> Respond:
    """A respondent answering from a mapping of features to values: the value when the
    mapping has one, else "don't know" (which keeps a reading offered for confirmation)."""

    def respond(question: Question) -> Answer:
        raw = mapping.get(question.feature)
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in UNKNOWN_WORDS):
            return DONT_KNOW
        if isinstance(raw, (bool, int, float, str)):
            return raw
        return DONT_KNOW

    return respond


def run_interview(consultation: Consultation, respond: Respond,
                  on_question: Callable[[Question, Answer], None] | None = None) -> Consultation:
    """Ask every question the consultation has, answering each with ``respond``."""
    while (question := consultation.next_question()) is not None:
        reply = respond(question)
        consultation.answer(question.feature, reply)
        if on_question is not None:
            on_question(question, reply)
    return consultation


def consult(router: Router, answers: Mapping[str, object], *, budget: int = DEFAULT_BUDGET,
            count_unasked: bool = True) -> Consultation:
    """A consultation answered from a mapping (its ``description`` opens it), concluded.
    Every answer the mapping gives counts in the decision, asked or not (``volunteer()``),
    as ``discern consult --answers`` does; ``count_unasked=False`` keeps only the answers
    to the questions asked, to measure what the interview alone reaches."""
    description = answers.get(DESCRIPTION)
    consultation = Consultation(router, description if isinstance(description, str) else None, budget=budget)
    run_interview(consultation, answers_from(answers))
    if count_unasked:
        consultation.volunteer(answers)
    consultation.conclude()
    return consultation


__all__ = [
    "ANSWERABLE", "CONFIRM", "CORE", "DEFAULT_BUDGET", "DONT_KNOW", "REJECT", "SKIP", "STOP_REASONS",
    "Consultation", "Exchange", "Question", "SafetyCard", "answers_from", "consult", "numeric_thresholds",
    "representative_values", "run_interview", "safety_card", "safety_feature", "sounds_like",
]
