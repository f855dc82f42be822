"""Bad input of every shape: random and mutated conditions, policies, tool specs and test
files only ever raise SpecError (located) or load; nothing else escapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router import SpecError, load_policy
from router.conditions import compile_condition, parse
from router.errors import ConditionError
from router.policydiff import read_contexts
from router.policytest import load_suite
from router.yamlsource import parse_yaml

DEFAULT = ROOT / "policies" / "default.yaml"
DEFAULT_TEXT = DEFAULT.read_text()
TOOL_TEXT = (ROOT / "tools" / "grounding.yaml").read_text()
TESTS_TEXT = (ROOT / "policies" / "default.tests.yaml").read_text()
DEFAULT_POLICY = load_policy(DEFAULT)
FEATURES = DEFAULT_POLICY.features
WORDS = ["goal", "stakes", "emotional_intensity", "fatigue", "decide", "high", "and", "or", "not", "in", "==",
         ">=", "<", "!=", "(", ")", "[", "]", ",", "3", "-1", "10.5", "true", "false", "description", "x-y"]
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


def assert_located(error: SpecError) -> None:
    assert error.problems and all(p.message for p in error.problems)
    assert all(p.location is not None for p in error.problems)


# --- the condition language ---------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text_parses_or_raises_a_located_condition_error(text: str) -> None:
    try:
        parse(text)
    except ConditionError as error:
        assert_located(error)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join))
def test_random_words_compile_or_raise_a_located_condition_error(text: str) -> None:
    try:
        compiled = compile_condition(text, FEATURES)
    except ConditionError as error:
        assert_located(error)
        return
    assert compiled.test({}) in (True, False, None)


# --- mutations of real files ----------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with a few edits a person might make by mistake."""
    lines = _lines(text)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "swap", "duplicate", "retype", "indent", "insert", "truncate"]))
        line = lines[i]
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, line)
        elif kind == "swap" and len(line) > 2:
            j = draw(st.integers(0, len(line) - 2))
            lines[i] = line[:j] + line[j + 1] + line[j] + line[j + 2:]
        elif kind == "retype" and ":" in line:
            key, _, _ = line.partition(":")
            value = draw(st.sampled_from(["[1, 2]", "{a: b}", "yes", "-3", "''", "null", "~", "&a x", "*a",
                                          "!!binary aGk=", "1e999", "'unterminated", "[", "{x: [}"]))
            lines[i] = f"{key}: {value}\n"
        elif kind == "indent":
            lines[i] = draw(st.sampled_from(["  ", "\t", " "])) + line
        elif kind == "insert":
            j = draw(st.integers(0, len(line)))
            lines[i] = line[:j] + draw(st.sampled_from(list(":-[]{}#&*!|>'\"%@`,?\t\x00é"))) + line[j:]
        elif kind == "truncate":
            lines = lines[:i]
    return "".join(lines)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """policies/ and tools/ side by side; each tool file a link to the shipped one."""
    root = tmp_path_factory.mktemp("sandbox")
    (root / "policies").mkdir()
    (root / "tools").mkdir()
    for tool in (ROOT / "tools").glob("*.yaml"):
        (root / "tools" / tool.name).symlink_to(tool)
    return root


def loads_or_spec_error(load: Callable[[], object]) -> None:
    try:
        load()
    except SpecError as error:
        assert_located(error)


@FUZZ
@given(text=mutated(DEFAULT_TEXT))
def test_mutated_default_policy_loads_or_raises_spec_error(sandbox: Path, text: str) -> None:
    path = sandbox / "policies" / "mutant.yaml"
    path.write_text(text)
    loads_or_spec_error(lambda: load_policy(path))


@FUZZ
@given(text=mutated(TOOL_TEXT))
def test_mutated_tool_spec_loads_or_raises_spec_error(sandbox: Path, text: str) -> None:
    tool = sandbox / "tools" / "grounding.yaml"
    tool.unlink()
    tool.write_text(text)
    path = sandbox / "policies" / "default.yaml"
    path.write_text(DEFAULT_TEXT)
    try:
        loads_or_spec_error(lambda: load_policy(path))
    finally:  # the sandbox is shared by the module's tests: put the real tool back
        tool.write_text(TOOL_TEXT)


@FUZZ
@given(text=mutated(TESTS_TEXT))
def test_mutated_test_file_loads_or_raises_spec_error(sandbox: Path, text: str) -> None:
    path = sandbox / "policies" / "mutant.tests.yaml"
    path.write_text(text)
    loads_or_spec_error(lambda: load_suite(path, policy=DEFAULT))


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text_as_any_file_raises_only_spec_error(sandbox: Path, text: str) -> None:
    try:
        parse_yaml(text, "random.yaml")
    except SpecError as error:
        assert_located(error)
    path = sandbox / "policies" / "random.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass") if not re.search(r"[\ud800-\udfff]", text) \
        else path.write_text("x")
    loads_or_spec_error(lambda: load_policy(path))
    loads_or_spec_error(lambda: load_suite(path, policy=DEFAULT))
    loads_or_spec_error(lambda: read_contexts(path, [DEFAULT_POLICY]))
