"""The prefilter that skips regex searches: it may only skip a search that could not match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.prefilter import beginnings, required


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"\bi (?:am|feel) ready to die\b", {"ready"}),
        (r"\b(?:the |my )?(?:pills|tablets) (?:are |is )?in my hand\b", {"pills", "tablets", "hand"}),
        (r"\b(?:\w+ ){0,2}pills", {"pills"}),
        (r"(?<!no )\bsingle idea", {"single", "idea"}),
        (r"\bcarv\w* into", {"carv", "into"}),
        (r"(?:\bfoo|\bbar)x", {"foo", "bar"}),
        (r"\b(?P<n>\d+) minutes", {"minutes"}),
        (r"\bhit(?:s)?\b", {"hit"}),
    ],
)
def test_the_word_every_match_needs_is_read_from_the_pattern(pattern: str, words: set[str]) -> None:
    found = required(pattern)
    assert found is not None and found <= words | {w[:n] for w in words for n in range(1, len(w) + 1)}


@pytest.mark.parametrize(
    "pattern",
    [r"foo", r"(?:re)?open\b", r"\b(?:\w+)?pills", r"^\s*\d+", r"(?i)\bhello", r"\b(?:yes|)\b",
     r"(?a)\bfoo"],  # ASCII word boundaries fall inside Unicode words ("éfoo")
)
def test_no_requirement_where_a_match_need_not_start_a_word_with_known_letters(pattern: str) -> None:
    assert required(pattern) is None


def test_beginnings_are_every_prefix_of_every_word() -> None:
    assert beginnings("Hi, my dog") == {"H", "Hi", "m", "my", "d", "do", "dog"}


_PIECES = [r"\bfoo", r"bar", r"(?:baz|qux)", r" ", r"\w+", r"(?:the )?", r"(?:\w+ ){0,2}", r"x*", r"\b", r"[ab]",
           r"(?:zz|z z)+", r"(?!no)", r"(?<!o)", r"\d", r"(?:o|the )"]
_TEXT = st.text(alphabet=list("foobarbazqux thezno1 \n.'"), max_size=40)


@settings(max_examples=1500, deadline=None)
@given(parts=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6), texts=st.lists(_TEXT, min_size=1, max_size=8))
def test_a_text_that_matches_always_has_a_required_beginning(parts: list[str], texts: list[str]) -> None:
    pattern = "".join(parts)
    found = required(pattern)
    if found is None:
        return
    regex = re.compile(pattern)
    for text in texts + ["foo bar", "the foo", "xfoo bazqux", "z zfoo", "foobar", "quxbaz", "thefoo"]:
        if regex.search(text):
            assert not found.isdisjoint(beginnings(text)), (pattern, text, found)


def test_the_screen_and_its_prefilter_agree_on_the_labelled_statements() -> None:
    """Every regex of the screen, searched in every labelled sentence, against the prefilter."""
    import yaml

    from router.screen import _load, normalise, sentence_spans

    data = Path(__file__).parent / "data" / "words"
    texts = [i["text"] if isinstance(i, dict) else i for name in ("risk", "harmless", "screen_fresh", "screen_more") for key in ("items", "risk", "harmless")
             for i in (yaml.safe_load((data / f"{name}.yaml").read_text("utf-8")).get(key) or [])]
    regexes = [(r, required(r)) for p in _load().patterns for r in p.regexes]
    checked = 0
    for text in texts:
        norm = normalise(text).text
        for s0, s1 in sentence_spans(norm):
            sentence = norm[s0:s1]
            words = beginnings(sentence)
            for regex, found in regexes:
                if found is not None and regex.search(sentence):
                    checked += 1
                    assert not found.isdisjoint(words), (regex.pattern[:80], sentence)
    assert checked > 100


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_text_folds_as_any_text_does(text: str) -> None:
    from router.screen import _fold_any, _fold_ascii

    assert _fold_ascii(text) == _fold_any(text)


def test_readings_of_the_patterns_are_kept_in_the_load_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import router.prefilter as prefilter

    monkeypatch.setenv("DISCERN_CACHE_DIR", str(tmp_path))
    patterns = [r"\bi (?:am|feel) ready to die\b", r"foo", r"\bcarv\w* into"]
    first = prefilter.required_all(patterns, "prefilter-test.json")
    assert first == [prefilter.required(p) for p in patterns]

    def no_parsing(pattern: str) -> None:
        raise AssertionError("read again instead of from the cache")

    monkeypatch.setattr(prefilter, "required", no_parsing)
    assert prefilter.required_all(patterns, "prefilter-test.json") == first
    with pytest.raises(AssertionError):  # other patterns are read afresh
        prefilter.required_all(patterns + [r"\bbar"], "prefilter-test.json")
    (tmp_path / "prefilter-test.json").write_text("{not json", encoding="utf-8")
    monkeypatch.undo()
    monkeypatch.setenv("DISCERN_CACHE_DIR", str(tmp_path))
    assert prefilter.required_all(patterns, "prefilter-test.json") == first  # a broken cache is read past


def test_a_pattern_compiled_for_ascii_words_has_no_requirement() -> None:
    assert re.search(r"\bfoo", "éfoo", re.ASCII) and required(re.compile(r"\bfoo", re.ASCII)) is None
