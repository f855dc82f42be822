"""`discern consult` as a person meets it: in a pseudo-terminal, answering, not knowing,
skipping, raising a safety risk, pressing Ctrl-C; and as scripts meet it: --answers, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import ROOT


def _command() -> list[str]:
    return [str(ROOT / "cli.py"), "consult"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCERN_")}
    env.update({"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "120", "TERM": "xterm"})
    env.update(extra)
    return env


def spawn(*args: str, **env: str) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, [*_command(), *args], cwd=str(ROOT), env=_env(**env),
                          encoding="utf-8", timeout=30, dimensions=(60, 120))
    return child


def run(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *_command(), *args], cwd=str(ROOT), env=_env(**env), input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def records_in(store: Path) -> int:
    if not store.exists():
        return 0
    from router.audit import open_store

    opened = open_store(store)
    try:
        return len(list(opened.export_rows()))
    finally:
        opened.close()


def answer_until_done(child: pexpect.spawn, reply: str = "?") -> None:
    """Answer every remaining question with ``reply`` until the result card appears."""
    while True:
        found = child.expect([r"> ", "What to do now", pexpect.EOF])
        if found == 0:
            child.sendline(reply)
        else:
            return


# --- in a terminal ---------------------------------------------------------------------------

def test_a_person_answers_and_gets_a_card() -> None:
    child = spawn("--no-audit")
    child.expect("Describe the situation in your own words")
    child.expect("> ")
    child.sendline("")  # no description: straight to the questions
    child.expect("Is anyone at risk of harm")
    child.expect("> ")
    child.sendline("no")
    child.expect(r"2\. ")
    child.expect("> ")
    child.sendline("?")  # don't know
    child.expect(r"3\. ")
    child.expect("> ")
    child.sendline("")  # skip
    answer_until_done(child)
    child.expect(pexpect.EOF)
    text = child.before
    assert "Why this tool" in text and "What to watch for" in text and "Traceback" not in text
    child.close()
    assert child.exitstatus == 0


def test_a_real_answer_is_taken_and_a_bad_one_asked_again() -> None:
    child = spawn("--no-audit")
    child.expect("> ")
    child.sendline("")
    child.expect("Is anyone at risk of harm")
    child.expect("> ")
    child.sendline("no")
    child.expect("What do you need right now")
    child.expect("> ")
    child.sendline("banana")
    child.expect("not one of the answers")
    child.expect("> ")
    child.sendline("decide")
    answer_until_done(child)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_a_safety_answer_shows_the_safety_card_at_once(tmp_path: Path) -> None:
    store = tmp_path / "audit.db"
    child = spawn("--audit", str(store))
    child.expect("> ")
    child.sendline("")
    child.expect("Is anyone at risk of harm")
    child.expect("> ")
    child.sendline("yes")
    child.expect("Safety first")
    child.expect(pexpect.EOF)
    text = child.before
    for fact in ("112", "911", "999", "findahelpline.com", "not professional care"):
        assert fact in text.replace("\n", " ").replace("│", " ").replace("  ", " ") or fact in " ".join(text.split())
    assert "> " not in text  # nothing more is asked
    child.close()
    assert child.exitstatus == 0
    assert records_in(store) == 1


def test_ctrl_c_leaves_no_record_and_a_clean_exit(tmp_path: Path) -> None:
    store = tmp_path / "audit.db"
    child = spawn("--audit", str(store), "--description", "a hard choice about work")
    child.expect("Is anyone at risk of harm")
    child.expect("> ")
    child.sendline("no")
    child.expect("> ")
    child.sendintr()
    child.expect(pexpect.EOF)
    assert "Traceback" not in child.before and "interrupted" in child.before
    child.close()
    assert child.exitstatus == 130
    assert records_in(store) == 0


def test_ctrl_c_at_the_description_prompt(tmp_path: Path) -> None:
    child = spawn("--audit", str(tmp_path / "audit.db"))
    child.expect("Describe the situation")
    child.expect("> ")
    child.sendintr()
    child.expect(pexpect.EOF)
    assert "Traceback" not in child.before
    child.close()
    assert child.exitstatus == 130
    assert records_in(tmp_path / "audit.db") == 0


def test_budget_is_in_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    from router.consult import DEFAULT_BUDGET

    assert f"at most {DEFAULT_BUDGET} questions" in " ".join(result.stdout.split()) and "--max-questions" in result.stdout


# --- for scripts ------------------------------------------------------------------------------

def test_answers_file_runs_without_a_terminal_and_records_once(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("safety_risk: false\ngoal: cope\nemotional_intensity: 9\n")
    store = tmp_path / "audit.db"
    result = run("--answers", str(answers), "--audit", str(store))
    assert result.returncode == 0, result.stderr
    assert "What to do now" in result.stdout and "paced" in result.stdout.lower()
    assert records_in(store) == 1


def test_json_prints_only_the_decision_with_the_questions(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"safety_risk": False, "goal": "decide", "stakes": "high"}))
    result = run("--answers", str(answers), "--json", "--no-audit")
    assert result.returncode == 0, result.stderr
    d = json.loads(result.stdout)
    assert d["version"] == 1 and d["questions_asked"][0] == "safety_risk"
    for key in ("tool", "confident", "robust", "unknowns", "ranking", "inferred", "decision_id", "policy"):
        assert key in d
    assert d["decision_id"] is None and d["safety"] is None
    route = json.loads(subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "route", "--json", "--no-audit", *(
            f"--set={k}={v}" for k, v in d["context"].items())],
        cwd=str(ROOT), env=_env(), capture_output=True, text=True, timeout=60, check=False).stdout)
    assert route["tool"] == d["tool"]


def test_json_with_the_safety_card(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("safety_risk: true\ngoal: cope\n")
    result = run("--answers", str(answers), "--json", "--no-audit")
    assert result.returncode == 0
    d = json.loads(result.stdout)
    assert d["tool"] == "seek-professional-help" and d["questions_asked"] == ["safety_risk"]
    assert "112" in d["safety"] and "findahelpline.com" in d["safety"]
    assert "findahelpline.com" in result.stderr


def test_description_key_opens_the_consultation(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("description: I keep going over the argument with my sister\nsafety_risk: false\n")
    result = run("--answers", str(answers), "--json", "--no-audit")
    assert result.returncode == 0, result.stderr
    d = json.loads(result.stdout)
    assert d["context"].get("description", "").startswith("I keep going") or d["inferred"] is not None


def test_without_a_terminal_or_answers_it_says_so() -> None:
    result = run("--no-audit", stdin="")
    assert result.returncode == 2
    assert "terminal" in result.stderr and "--answers" in result.stderr


@pytest.mark.parametrize("content, message", [
    ("goal: decid\n", "answers.yaml:1"),
    ("stakes: [high\n", "answers.yaml"),
    ("colour: blue\n", "unknown feature `colour`"),
])
def test_bad_answers_file_is_located(tmp_path: Path, content: str, message: str) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(content)
    result = run("--answers", str(answers), "--no-audit")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_answers_file() -> None:
    result = run("--answers", "/nonexistent/answers.yaml", "--no-audit")
    assert result.returncode == 2 and "Traceback" not in result.stderr


TRAUMA_FILE = ("goal: plan\nstakes: moderate\ncontrollability: none\ntime_available: 30\nemotional_intensity: 6\n"
               "uncertainty: ambiguity\nenvironment_validity: high\nrumination: true\nvalues_conflict: true\n"
               "fatigue: true\ntrauma_activation: true\n")


def test_every_answer_in_the_file_counts_asked_or_not(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(TRAUMA_FILE)
    result = run("--answers", str(answers), "--json", "--no-audit", "--max-questions", "8")
    assert result.returncode == 0, result.stderr
    d = json.loads(result.stdout)
    route = json.loads(subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "route", "--context", str(answers), "--json", "--no-audit"],
        cwd=str(ROOT), env=_env(), capture_output=True, text=True, timeout=60, check=False).stdout)
    assert d["tool"] == route["tool"]
    excluded = {r["tool"] for r in route["ranking"] if r["excluded"]}
    assert d["tool"] not in excluded and "mindful-noting" in excluded
    assert len(d["questions_asked"]) <= 8 and "trauma_activation" not in d["questions_asked"]
    assert "trauma_activation" in d["volunteered"]


def test_the_card_says_what_was_left_open_that_would_rule_the_tool_out(tmp_path: Path) -> None:
    # coping with replayed thoughts leads to mindful noting, which trauma reminders rule out;
    # the file cannot say whether they are part of it, so the card must
    answers = tmp_path / "answers.yaml"
    answers.write_text("goal: cope\ncontrollability: partial\nemotional_intensity: 5\nstakes: moderate\n"
                       "time_available: 30\nuncertainty: ambiguity\nrumination: true\nsafety_risk: false\n")
    result = run("--answers", str(answers), "--json", "--no-audit")
    d = json.loads(result.stdout)
    assert d["tool"] == "mindful-noting"
    assert [o["feature"] for o in d["would_rule_out"]] == ["trauma_activation"]
    assert any(n.endswith("trauma_activation, which would rule this tool out") for n in d["notes"])
    card = run("--answers", str(answers), "--no-audit")
    assert "trauma_activation, which would rule this tool out" in " ".join(card.stdout.split())


def test_the_command_line_states_the_library_budget() -> None:
    from discern_cli import consult as command
    from router.consult import DEFAULT_BUDGET

    assert command.DEFAULT_BUDGET == DEFAULT_BUDGET


def test_reading_a_description_at_a_terminal_shows_that_it_is_working() -> None:
    """The first description after installing fits the learned models (seconds): a person at a
    terminal sees a spinner (in `route` as in `consult`), a script reading --json gets only the JSON."""
    route = [str(ROOT / "cli.py"), "route", "--no-audit", "--set", "description=I keep replaying the fight with my sister"]
    child = pexpect.spawn(sys.executable, route, cwd=str(ROOT), env=_env(), encoding="utf-8", timeout=60,
                          dimensions=(60, 120))
    child.expect("reading your words")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    done = subprocess.run([sys.executable, *route, "--json"], cwd=str(ROOT), env=_env(), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0 and "reading your words" not in done.stderr + done.stdout
    child = spawn("--description", "I keep replaying the fight with my sister")
    child.expect("reading your words")
    child.terminate(force=True)
