"""The audit commands, driven through typer's runner on a small app of their own, and
once as a real process."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3  # only to play the part of someone tampering with the file
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import DATA, ROOT
from typer.testing import CliRunner

from discern_cli.audit import audit_app, explain_command, outcome_command, store_for_route
from router import Router
from router.audit import open_store

ENGINE = DATA / "engine" / "policy.yaml"
REDACTING = DATA / "audit" / "policy.yaml"

app = typer.Typer()
app.command("explain")(explain_command)
app.command("outcome")(outcome_command)
app.add_typer(audit_app, name="audit")
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={"DISCERN_AUDIT": None, "DISCERN_POLICY": None, **(env or {})})


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


def recorded(db: Path, context: dict[str, object], policy: Path = ENGINE) -> str:
    router = Router.load(policy, audit=db)
    decision_id = router.route(context).decision_id
    router.audit.close()  # type: ignore[union-attr]
    assert decision_id is not None
    return decision_id


# --- explain ----------------------------------------------------------------------------------

def test_explain_shows_the_recorded_explanation(db: Path) -> None:
    decision_id = recorded(db, {"goal": "decide", "options": 4})
    result = invoke("explain", decision_id, "--audit", str(db))
    assert result.exit_code == 0, result.output
    assert "Decision matrix" in result.stdout and decision_id in result.stdout
    assert "Recorded" in result.stdout and "engine-test" in result.stdout
    as_json = json.loads(invoke("explain", decision_id, "--audit", str(db), "--json").stdout)
    assert as_json["recorded"]["tool"] == "matrix" and as_json["decision_id"] == decision_id
    assert "Recommended: matrix" in as_json["explanation"]


def test_explain_reads_the_store_from_the_environment(db: Path) -> None:
    decision_id = recorded(db, {"goal": "decide"})
    result = invoke("explain", decision_id, "--json", env={"DISCERN_AUDIT": str(db)})
    assert result.exit_code == 0 and json.loads(result.stdout)["decision_id"] == decision_id


def test_explain_marks_what_was_redacted(db: Path) -> None:
    context = {"goal": "cope", "stakes": "high", "trauma": True, "description": "the flood last year"}
    decision_id = recorded(db, context, REDACTING)
    result = invoke("explain", decision_id, "--audit", str(db))
    assert result.exit_code == 0, result.output
    assert "Redacted" in result.stdout
    assert "trauma: left out" in result.stdout and "stakes: kept only as a keyed hash" in result.stdout
    assert "description: kept only as a keyed hash" in result.stdout
    assert "the flood" not in result.stdout


def test_explain_is_unchanged_after_the_policy_changes_and_rerun_shows_the_difference(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "policy"
    shutil.copytree(DATA / "engine", folder)
    policy = folder / "policy.yaml"
    context = {"goal": "decide", "options": 4}
    decision_id = recorded(db, context, policy)
    before = json.loads(invoke("explain", decision_id, "--audit", str(db), "--json").stdout)
    assert before["recorded"]["tool"] == "matrix"

    policy.write_text(policy.read_text().replace('version: "1"', 'version: "2"').replace(
        "rules:\n", "rules:\n  - id: no-matrix\n    when: goal == decide\n    forbid: matrix\n"
        "    reason: matrices are out of favour\n"))
    assert Router.load(policy).route(context).tool != "matrix"

    after = invoke("explain", decision_id, "--audit", str(db), "--json")
    assert json.loads(after.stdout)["recorded"] == before["recorded"]  # the record speaks for the past
    text = invoke("explain", decision_id, "--audit", str(db))
    assert "Decision matrix" in text.stdout and "no-matrix" not in text.stdout

    rerun = invoke("explain", decision_id, "--audit", str(db), "--rerun", "--policy", str(policy), "--json")
    assert rerun.exit_code == 0, rerun.output
    differences = json.loads(rerun.stdout)["rerun"]["differences"]
    assert differences["tool"]["recorded"] == "matrix" and differences["tool"]["now"] != "matrix"
    assert differences["policy"]["now"]["version"] == "2"
    assert any(s["tool"] == "matrix" and s["now_excluded"] for s in differences["scores"])
    shown = invoke("explain", decision_id, "--audit", str(db), "--rerun", "--policy", str(policy))
    assert shown.exit_code == 0 and "What differs" in shown.stdout and "no-matrix" in shown.stdout


def test_rerun_leaves_out_redacted_features_and_says_so(db: Path) -> None:
    context = {"goal": "cope", "stakes": "high", "trauma": True, "emotional_intensity": 8}
    decision_id = recorded(db, context, REDACTING)
    result = invoke("explain", decision_id, "--audit", str(db), "--rerun", "--policy", str(REDACTING), "--json")
    assert result.exit_code == 0, result.output
    rerun = json.loads(result.stdout)["rerun"]
    assert rerun["context"] == {"goal": "cope", "emotional_intensity": 8}
    assert {x["feature"] for x in rerun["left_out"]} == {"trauma", "stakes"}
    text = invoke("explain", decision_id, "--audit", str(db), "--rerun", "--policy", str(REDACTING)).stdout
    assert "without trauma: left out of the record" in text
    assert "without stakes: recorded only as a keyed hash" in text


def test_rerun_with_the_same_policy_finds_nothing_different(db: Path) -> None:
    decision_id = recorded(db, {"goal": "decide", "options": 4})
    result = invoke("explain", decision_id, "--audit", str(db), "--rerun", "--policy", str(ENGINE))
    assert result.exit_code == 0 and "Nothing differs" in result.stdout


@pytest.mark.parametrize("command", [["explain"], ["outcome"], ["audit", "show"]])
def test_an_unknown_decision_id_exits_2(db: Path, command: list[str]) -> None:
    recorded(db, {"goal": "decide"})
    args = [*command, "01NOTAREALDECISIONID000000", *(["--rating", "3"] if command == ["outcome"] else []), "--audit", str(db)]
    result = invoke(*args)
    assert result.exit_code == 2
    assert "no decision `01NOTAREALDECISIONID000000`" in result.stderr
    assert "Traceback" not in result.output


# --- outcome ----------------------------------------------------------------------------------

def test_outcome_is_recorded_and_linked(db: Path) -> None:
    decision_id = recorded(db, {"goal": "decide", "options": 4})
    result = invoke("outcome", decision_id, "--rating", "4", "--used", "gut", "--note", "quicker", "--audit", str(db))
    assert result.exit_code == 0, result.output
    assert "rated 4/5" in result.stdout
    record = open_store(db).get(decision_id)
    assert record["outcomes"][0]["rating"] == 4 and record["outcomes"][0]["used"] == "gut"
    assert record["outcomes"][0]["note"] == "quicker"
    shown = invoke("explain", decision_id, "--audit", str(db))
    assert "rated 4/5, used gut: quicker" in shown.stdout


@pytest.mark.parametrize("rating", ["0", "6", "x"])
def test_outcome_refuses_a_bad_rating(db: Path, rating: str) -> None:
    decision_id = recorded(db, {"goal": "decide"})
    assert invoke("outcome", decision_id, "--rating", rating, "--audit", str(db)).exit_code == 2
    assert open_store(db).verify().checked == 1


def test_outcome_notes_a_tool_not_in_play(db: Path) -> None:
    decision_id = recorded(db, {"goal": "decide"})
    result = invoke("outcome", decision_id, "--rating", "2", "--used", "tarot", "--audit", str(db), "--json")
    assert result.exit_code == 0 and "not among the tools" in json.loads(result.stdout)["warning"]


# --- audit list | show | export | verify | head -------------------------------------------------

def test_list_with_filters(db: Path) -> None:
    a = recorded(db, {"goal": "decide", "options": 4})
    b = recorded(db, {"goal": "cope", "emotional_intensity": 9})
    rows = json.loads(invoke("audit", "list", "--audit", str(db), "--json").stdout)["decisions"]
    assert [r["decision_id"] for r in rows] == [a, b]
    only = json.loads(invoke("audit", "list", "--tool", "breathe", "--audit", str(db), "--json").stdout)
    assert [r["decision_id"] for r in only["decisions"]] == [b]
    later = json.loads(invoke("audit", "list", "--since", "2999-01-01", "--audit", str(db), "--json").stdout)
    assert later["decisions"] == []
    assert invoke("audit", "list", "--policy", "nope", "--audit", str(db)).stdout.startswith("No decisions")
    text = invoke("audit", "list", "--audit", str(db))
    assert text.exit_code == 0 and a in text.stdout and "breathe" in text.stdout
    assert invoke("audit", "list", "--since", "last week", "--audit", str(db)).exit_code == 2


def test_show_prints_the_record(db: Path) -> None:
    decision_id = recorded(db, {"goal": "decide"})
    result = invoke("audit", "show", decision_id, "--audit", str(db))
    assert result.exit_code == 0 and "sha256:" in result.stdout and "tool spec" in result.stdout
    record = json.loads(invoke("audit", "show", decision_id, "--audit", str(db), "--json").stdout)["record"]
    assert record["id"] == decision_id and record["hash"].startswith("sha256:")


def test_export_jsonl_and_csv_have_the_same_columns(db: Path) -> None:
    a = recorded(db, {"goal": "decide", "options": 4})
    b = recorded(db, {"goal": "cope", "emotional_intensity": 9})
    assert invoke("outcome", a, "--rating", "5", "--audit", str(db)).exit_code == 0
    jsonl = invoke("audit", "export", "--format", "jsonl", "--audit", str(db))
    assert jsonl.exit_code == 0, jsonl.output
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [x["decision_id"] for x in lines] == [a, b]
    assert lines[0]["outcomes"][0]["rating"] == 5 and lines[1]["outcomes"] == []
    table = invoke("audit", "export", "--format", "csv", "--audit", str(db))
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert list(rows[0]) == list(lines[0])
    assert [r["decision_id"] for r in rows] == [a, b]
    assert json.loads(rows[0]["outcomes"])[0]["rating"] == 5
    assert json.loads(rows[0]["context"]) == {"goal": "decide", "options": 4}
    assert invoke("audit", "export", "--format", "xml", "--audit", str(db)).exit_code == 2


def test_export_to_a_file(db: Path, tmp_path: Path) -> None:
    recorded(db, {"goal": "decide"})
    out = tmp_path / "out.jsonl"
    assert invoke("audit", "export", "-o", str(out), "--audit", str(db)).exit_code == 0
    assert len(out.read_text().splitlines()) == 1


def test_verify_and_head(db: Path) -> None:
    ids = [recorded(db, {"goal": "decide", "options": i}) for i in range(4)]
    ok = invoke("audit", "verify", "--audit", str(db))
    assert ok.exit_code == 0 and "ok" in ok.stdout
    head = invoke("audit", "head", "--audit", str(db))
    assert head.exit_code == 0 and head.stdout.split()[0] == ids[-1] and head.stdout.split()[1].startswith("sha256:")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM records WHERE id = ?", (ids[1],))
    conn.close()
    broken = invoke("audit", "verify", "--audit", str(db))
    assert broken.exit_code == 1 and ids[2] in broken.stdout
    report = json.loads(invoke("audit", "verify", "--audit", str(db), "--json").stdout)
    assert report["ok"] is False and report["first_broken_id"] == ids[2]


def test_head_of_an_empty_store(db: Path) -> None:
    db.write_bytes(b"")
    assert json.loads(invoke("audit", "head", "--audit", str(db), "--json").stdout)["id"] is None


# --- bad stores -------------------------------------------------------------------------------

def _bad_stores(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "folder"
    folder.mkdir()
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    good = tmp_path / "good.db"
    recorded(good, {"goal": "decide"})
    corrupt = tmp_path / "corrupt.db"
    data = bytearray(good.read_bytes())
    data[100:4096] = b"\xff" * 3996
    corrupt.write_bytes(bytes(data))
    return {"directory": folder, "not-sqlite": text, "corrupt": corrupt}


@pytest.mark.parametrize("kind", ["directory", "not-sqlite", "corrupt"])
@pytest.mark.parametrize("command", [["audit", "list"], ["audit", "verify"], ["audit", "head"],
                                     ["explain", "01NOTAREALDECISIONID000000"],
                                     ["outcome", "01NOTAREALDECISIONID000000", "--rating", "3"]])
def test_a_bad_store_exits_2_and_is_left_untouched(tmp_path: Path, kind: str, command: list[str]) -> None:
    path = _bad_stores(tmp_path)[kind]
    before = None if path.is_dir() else path.read_bytes()
    result = invoke(*command, "--audit", str(path))
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr and "Traceback" not in result.output
    if before is not None:
        assert path.read_bytes() == before
        assert not Path(str(path) + "-wal").exists()
    else:
        assert list(path.iterdir()) == []


def test_a_missing_store_exits_2_for_reading_commands(db: Path) -> None:
    result = invoke("audit", "list", "--audit", str(db))
    assert result.exit_code == 2 and "no audit store" in result.stderr
    assert not db.exists()


def test_store_for_route_honours_no_audit(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store_for_route(db, no_audit=True) is None
    monkeypatch.setenv("DISCERN_NO_AUDIT", "1")
    assert store_for_route(db) is None
    monkeypatch.delenv("DISCERN_NO_AUDIT")
    store = store_for_route(db)
    assert store is not None and db.exists()


def test_every_command_has_help_with_an_example() -> None:
    for args in (["explain"], ["outcome"], ["audit", "list"], ["audit", "show"], ["audit", "export"],
                 ["audit", "verify"], ["audit", "head"]):
        result = invoke(*args, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout and "Exit codes" in result.stdout


# --- as a real process ------------------------------------------------------------------------

DRIVER = """
import sys, typer
from discern_cli.audit import audit_app, explain_command, outcome_command
app = typer.Typer()
app.command("explain")(explain_command)
app.command("outcome")(outcome_command)
app.add_typer(audit_app, name="audit")
app()
"""


def test_the_commands_as_a_process(db: Path, tmp_path: Path) -> None:
    decision_id = recorded(db, {"goal": "decide", "options": 4})

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", DRIVER, *args, "--audit", str(db)], check=False, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    assert run("outcome", decision_id, "--rating", "3").returncode == 0
    assert run("audit", "verify").returncode == 0
    assert "matrix" in run("explain", decision_id).stdout
    bad = subprocess.run([sys.executable, "-c", DRIVER, "audit", "verify", "--audit", str(tmp_path)],
                         check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "is a directory" in bad.stderr
