"""The audit store: records, the hash chain, redaction, opening, batching, concurrency
and crashes."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3  # only to play the part of someone tampering with the file
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import DATA, ROOT

from router import Router, __version__
from router.audit import (
    GENESIS,
    SCHEMA_VERSION,
    AuditStore,
    SqliteAuditStore,
    canonical_json,
    default_store_path,
    new_id,
    open_store,
    record_hash,
)
from router.decision import Inferred
from router.errors import AuditError

ENGINE = DATA / "engine" / "policy.yaml"
REDACTING = DATA / "audit" / "policy.yaml"
KEEPING = DATA / "audit" / "policy-keep.yaml"
CONTEXT = {"goal": "decide", "stakes": "high", "description": "my sister is moving away"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


def route_some(db: Path, n: int, policy: Path = ENGINE) -> list[str]:
    router = Router.load(policy, audit=db)
    ids = [router.route({"goal": "decide", "options": i % 6}).decision_id for i in range(n)]
    router.audit.close()  # type: ignore[union-attr]
    return [i for i in ids if i]


def tamper(db: Path, sql: str, *args: object) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(sql, args)
    conn.close()


# --- records ----------------------------------------------------------------------------------

def test_router_records_every_route_and_sets_the_id(db: Path) -> None:
    router = Router.load(ENGINE, audit=db)
    decision = router.route(CONTEXT)
    assert decision.decision_id is not None and len(decision.decision_id) == 26
    assert decision.to_dict()["decision_id"] == decision.decision_id
    store = router.audit
    assert isinstance(store, AuditStore)
    record = store.get(decision.decision_id)
    assert record["kind"] == "decision" and record["id"] == decision.decision_id
    assert record["time"].endswith("+00:00")
    assert record["policy"]["name"] == "engine-test" and record["policy"]["hash"] == router.policy.hash
    assert record["policy"]["tool_hashes"] == router.policy.tool_hashes
    assert record["discern_version"] == __version__
    assert record["prev"] == GENESIS
    expected = decision.to_dict()
    expected["context"]["description"] = record["result"]["context"]["description"]  # redacted
    assert len(record["result"]["inferred"]) == len(expected["inferred"])
    for kept, made in zip(record["result"]["inferred"], expected["inferred"]):
        assert kept["evidence"] == made["pattern"]  # the words are redacted to the pattern's id
        made["evidence"] = kept["evidence"]
    assert record["result"] == json.loads(json.dumps(expected))
    body = {k: v for k, v in record.items() if k not in ("hash", "outcomes")}
    assert record["hash"] == record_hash(canonical_json(body))
    assert store.head() == (decision.decision_id, record["hash"])


def test_ids_are_unique_and_sort_by_time() -> None:
    ids = [new_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    later = (time.sleep(0.002), new_id())[1]
    assert later > ids[-1]


def test_outcomes_join_the_chain_and_the_decision(db: Path) -> None:
    router = Router.load(ENGINE, audit=db)
    decision_id = router.route(CONTEXT).decision_id
    store = router.audit
    assert store is not None and decision_id
    first = store.record_outcome(decision_id, 4, used="gut", note="went with my gut")
    store.record_outcome(decision_id, 2)
    record = store.get(decision_id)
    assert [o["rating"] for o in record["outcomes"]] == [4, 2]
    assert record["outcomes"][0]["id"] == first and record["outcomes"][0]["used"] == "gut"
    assert record["outcomes"][0]["prev"] == record["hash"]
    assert store.get(first)["kind"] == "outcome"
    assert store.verify().ok and store.verify().checked == 3
    assert store.head()[0] == record["outcomes"][1]["id"]  # type: ignore[index]


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, True, "4"])
def test_a_rating_outside_one_to_five_is_refused(db: Path, rating: object) -> None:
    store = open_store(db)
    decision_id = store.record(Router.load(ENGINE).route(CONTEXT), given=CONTEXT)
    with pytest.raises(AuditError, match="rating"):
        store.record_outcome(decision_id, rating)  # type: ignore[arg-type]
    assert store.verify().checked == 1


def test_an_unknown_decision_id_is_an_error(db: Path) -> None:
    store = open_store(db)
    with pytest.raises(AuditError, match="no decision `nope`"):
        store.get("nope")
    with pytest.raises(AuditError, match="no decision `nope`"):
        store.record_outcome("nope", 3)
    outcome_of = store.record_outcome(store.record(Router.load(ENGINE).route(CONTEXT)), 3)
    with pytest.raises(AuditError, match="no decision"):
        store.record_outcome(outcome_of, 3)  # an outcome is not a decision


def test_list_filters_and_export_rows(db: Path) -> None:
    store = open_store(db)
    engine, redacting = Router.load(ENGINE), Router.load(REDACTING)
    a = store.record(engine.route({"goal": "decide", "options": 4}), given={"goal": "decide", "options": 4})
    b = store.record(engine.route({"goal": "cope", "emotional_intensity": 9}))
    c = store.record(redacting.route({"goal": "decide", "stakes": "low"}))
    store.record_outcome(a, 5, note="clear")
    assert [r["id"] for r in store.list()] == [a, b, c]
    assert [r["id"] for r in store.list(tool="breathe")] == [b]
    assert [r["id"] for r in store.list(policy="audit-test")] == [c]
    assert [r["id"] for r in store.list(limit=2)] == [b, c]
    assert store.list(since="2999-01-01") == []
    assert len(store.list(since="2000-01-01T00:00:00Z")) == 3
    with pytest.raises(AuditError, match="ISO 8601"):
        store.list(since="yesterday")
    rows = list(store.export_rows())
    assert [r["decision_id"] for r in rows] == [a, b, c]
    assert rows[0]["outcomes"][0]["rating"] == 5 and rows[1]["outcomes"] == []
    assert rows[0]["tool"] == "matrix" and rows[0]["context"] == {"goal": "decide", "options": 4}
    assert rows[0]["tool_hash"] == engine.policy.tool_hashes["matrix"]


# --- verify -----------------------------------------------------------------------------------

def test_an_intact_chain_verifies(db: Path) -> None:
    route_some(db, 10)
    report = open_store(db).verify()
    assert report.ok and report.checked == 10 and report.first_broken_id is None


def test_a_changed_record_is_reported(db: Path) -> None:
    ids = route_some(db, 6)
    tamper(db, "UPDATE records SET body = replace(body, '\"matrix\"', '\"gut\"') WHERE id = ?", ids[3])
    report = open_store(db).verify()
    assert not report.ok and report.first_broken_id == ids[3] and report.checked == 3
    assert "changed" in report.message


def test_a_changed_record_with_a_fresh_hash_breaks_the_next_link(db: Path) -> None:
    ids = route_some(db, 6)
    conn = sqlite3.connect(db)
    body = conn.execute("SELECT body FROM records WHERE id = ?", (ids[2],)).fetchone()[0].replace('"discern_version":"', '"discern_version":"9')
    with conn:
        conn.execute("UPDATE records SET body = ?, hash = ? WHERE id = ?", (body, record_hash(body), ids[2]))
    conn.close()
    report = open_store(db).verify()
    assert not report.ok and report.first_broken_id == ids[3]


def test_a_changed_indexed_column_is_reported(db: Path) -> None:
    ids = route_some(db, 4)
    tamper(db, "UPDATE records SET tool = 'gut' WHERE id = ?", ids[1])
    report = open_store(db).verify()
    assert not report.ok and report.first_broken_id == ids[1]


def test_a_deleted_record_is_reported(db: Path) -> None:
    ids = route_some(db, 6)
    tamper(db, "DELETE FROM records WHERE id = ?", ids[2])
    report = open_store(db).verify()
    assert not report.ok and report.first_broken_id == ids[3] and report.checked == 2
    assert "deleted" in report.message


def test_a_deleted_first_record_is_reported(db: Path) -> None:
    ids = route_some(db, 3)
    tamper(db, "DELETE FROM records WHERE id = ?", ids[0])
    assert open_store(db).verify().first_broken_id == ids[1]


def test_reordered_records_are_reported(db: Path) -> None:
    ids = route_some(db, 6)
    conn = sqlite3.connect(db)
    seqs = dict(conn.execute("SELECT id, seq FROM records").fetchall())
    with conn:
        conn.execute("UPDATE records SET seq = -1 WHERE id = ?", (ids[2],))
        conn.execute("UPDATE records SET seq = ? WHERE id = ?", (seqs[ids[2]], ids[3]))
        conn.execute("UPDATE records SET seq = ? WHERE id = ?", (seqs[ids[3]], ids[2]))
    conn.close()
    report = open_store(db).verify()
    assert not report.ok and report.first_broken_id == ids[3] and report.checked == 2


def test_a_cut_tail_shows_against_a_kept_head(db: Path) -> None:
    ids = route_some(db, 5)
    kept = open_store(db).head()
    tamper(db, "DELETE FROM records WHERE id = ?", ids[-1])
    store = open_store(db)
    assert store.verify().ok  # a cut at the end leaves a valid chain...
    assert store.head() != kept  # ...which a head kept elsewhere exposes
    assert kept is not None and kept[0] == ids[-1]


# --- redaction --------------------------------------------------------------------------------

def test_the_description_is_a_keyed_hash_by_default(db: Path) -> None:
    store = open_store(db)
    router = Router.load(ENGINE)
    first = store.get(store.record(router.route(CONTEXT), given=CONTEXT))
    second = store.get(store.record(router.route(CONTEXT), given=CONTEXT))
    text = json.dumps(first)
    assert CONTEXT["description"] not in text
    hashed = first["given"]["description"]
    assert hashed.startswith("hmac-sha256:") and first["result"]["context"]["description"] == hashed
    assert second["given"]["description"] == hashed  # equal values still match
    assert {"feature": "description", "how": "hashed"} in first["redacted"]
    other = open_store(db.with_name("other.db"))
    elsewhere = other.get(other.record(router.route(CONTEXT), given=CONTEXT))
    assert elsewhere["given"]["description"] != hashed  # the key is the store's own


def test_the_description_is_kept_when_the_policy_says_so(db: Path) -> None:
    store = open_store(db)
    record = store.get(store.record(Router.load(KEEPING).route(CONTEXT), given=CONTEXT))
    assert record["given"]["description"] == CONTEXT["description"]
    assert record["result"]["context"]["description"] == CONTEXT["description"]
    assert all(r["feature"] != "description" for r in record["redacted"])


def test_dropped_features_are_absent_and_hashed_features_match(db: Path) -> None:
    store = open_store(db)
    router = Router.load(REDACTING)
    context = {"goal": "cope", "stakes": "high", "trauma": True, "emotional_intensity": 8}
    a = store.get(store.record(router.route(context), given=context))
    b = store.get(store.record(router.route(context), given=context))
    c = store.get(store.record(router.route({**context, "stakes": "low"}), given={**context, "stakes": "low"}))
    assert "trauma" not in a["given"] and "trauma" not in a["result"]["context"]
    assert "trauma" not in json.dumps(a["given"]) + json.dumps(a["result"]["context"])
    assert a["given"]["stakes"].startswith("hmac-sha256:")
    assert a["given"]["stakes"] == b["given"]["stakes"] == a["result"]["context"]["stakes"]
    assert c["given"]["stakes"] != a["given"]["stakes"]
    assert a["given"]["emotional_intensity"] == 8 and a["given"]["goal"] == "cope"
    assert {"feature": "trauma", "how": "dropped"} in a["redacted"]
    assert {"feature": "stakes", "how": "hashed"} in a["redacted"]


def test_inferred_evidence_becomes_its_pattern_id(db: Path) -> None:
    store = open_store(db)
    router = Router.load(REDACTING)
    decision = router.route(CONTEXT)
    decision.inferred = [
        Inferred("emotional_intensity", 8, "I am panicking", "words", pattern="panic-words"),
        Inferred("trauma", True, "the accident", "screen", pattern="trauma-screen"),
        Inferred("stakes", "high", "everything rides on it", "words", pattern="stakes-words"),
    ]
    decision.notes.append("read `I am panicking` from the description")
    record = store.get(store.record(decision, given=CONTEXT))
    text = json.dumps(record)
    for words in ("I am panicking", "the accident", "everything rides on it", CONTEXT["description"]):
        assert words not in text
    inferred = {i["feature"]: i for i in record["result"]["inferred"]}
    assert "trauma" not in inferred
    assert inferred["emotional_intensity"]["evidence"] == "panic-words"
    assert inferred["stakes"]["value"] == record["given"]["stakes"]
    assert {"feature": "inferred.evidence", "how": "evidence-as-pattern"} in record["redacted"]


def test_evidence_is_kept_with_the_text(db: Path) -> None:
    store = open_store(db)
    decision = Router.load(KEEPING).route(CONTEXT)
    decision.inferred = [Inferred("emotional_intensity", 8, "I am panicking", "words", pattern="panic-words")]
    record = store.get(store.record(decision, given=CONTEXT))
    assert record["result"]["inferred"][0]["evidence"] == "I am panicking"


# --- opening ----------------------------------------------------------------------------------

def test_a_new_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "audit.db"
    store = open_store(path)
    store.record(Router.load(ENGINE).route(CONTEXT))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for side in (path.with_name("audit.db-wal"), path.with_name("audit.db-shm")):
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0


def test_an_empty_file_becomes_a_store(db: Path) -> None:
    db.write_bytes(b"")
    store = open_store(db)
    assert store.head() is None and store.verify().ok and store.verify().checked == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_the_default_path_is_the_user_data_folder() -> None:
    import platformdirs

    assert default_store_path() == platformdirs.user_data_path("discern") / "audit.db"


def _unchanged(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists()
    assert not path.with_name(path.name + "-journal").exists()


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="is a directory") as error:
        open_store(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes\n" * 50)
    before = path.read_bytes()
    with pytest.raises(AuditError, match="not a SQLite database") as error:
        open_store(path)
    assert str(path) in str(error.value)
    _unchanged(path, before)


def test_a_corrupt_store_is_refused_and_left_alone(db: Path) -> None:
    route_some(db, 20)
    data = bytearray(db.read_bytes())
    data[100:4096] = os.urandom(3996)  # the schema page, after the header
    db.write_bytes(bytes(data))
    with pytest.raises(AuditError, match="cannot be read|not a Discern") as error:
        open_store(db)
    assert str(db) in str(error.value)
    _unchanged(db, bytes(data))


def test_a_truncated_header_is_refused(db: Path) -> None:
    db.write_bytes(b"SQLite for")
    with pytest.raises(AuditError):
        open_store(db)
    assert db.read_bytes() == b"SQLite for"


def test_another_sqlite_database_is_refused_and_left_alone(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE songs (title TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(AuditError, match="not a Discern audit store"):
        open_store(db)
    _unchanged(db, before)


def test_a_newer_schema_is_refused(db: Path) -> None:
    route_some(db, 1)
    tamper(db, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(AuditError, match="newer"):
        open_store(db)


def test_a_missing_store_can_be_required(db: Path) -> None:
    with pytest.raises(AuditError, match="no audit store"):
        open_store(db, create=False)
    assert not db.exists()


def test_open_store_passes_a_store_through(db: Path) -> None:
    store = open_store(db)
    assert open_store(store) is store
    with pytest.raises(AuditError):
        open_store(42)  # type: ignore[arg-type]


# --- batching ---------------------------------------------------------------------------------

def test_batch_mode_writes_every_n_and_on_flush(db: Path) -> None:
    store = SqliteAuditStore(db, batch=5)
    router = Router.load(ENGINE, audit=store)
    reader = open_store(db)
    ids = [router.route({"goal": "decide"}).decision_id for _ in range(7)]
    assert reader.verify().checked == 5  # the first five were written together
    assert store.get(ids[6])["id"] == ids[6]  # a pending record can be read back
    store.record_outcome(ids[6], 3)  # and rated
    store.flush()
    assert reader.verify().checked == 8 and reader.verify().ok
    router.route({"goal": "plan"})
    assert reader.verify().checked == 8
    store.close()
    assert reader.verify().checked == 9


def test_batch_mode_flushes_at_exit(db: Path) -> None:
    code = (
        "from router import Router\nfrom router.audit import SqliteAuditStore\n"
        f"r = Router.load({str(ENGINE)!r}, audit=SqliteAuditStore({str(db)!r}, batch=100))\n"
        "for _ in range(7): r.route({'goal': 'decide'})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
    assert open_store(db).verify().checked == 7


def test_a_batch_size_below_one_is_refused(db: Path) -> None:
    with pytest.raises(AuditError, match="batch"):
        SqliteAuditStore(db, batch=0)


# --- concurrency and crashes ------------------------------------------------------------------

def test_threads_sharing_one_store_lose_nothing(db: Path) -> None:
    router = Router.load(ENGINE, audit=db)

    def work() -> None:
        for i in range(25):
            router.route({"goal": "decide", "options": i % 5})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = open_store(db).verify()
    assert report.ok and report.checked == 100


WORKER = """
import os, sys, time
from router import Router
router = Router.load(sys.argv[1], audit=sys.argv[2])
print("ready", flush=True)
while not os.path.exists(sys.argv[4]):  # all start writing at once, when the test says go
    time.sleep(0.005)
for i in range(int(sys.argv[3])):
    d = router.route({"goal": "decide", "options": i % 7})
    print(d.decision_id, flush=True)
"""


def test_several_processes_at_once_lose_no_record(db: Path) -> None:
    go = db.parent / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(ENGINE), str(db), "50", str(go)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:  # every writer has loaded its router before any writes
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    go.touch()
    by_process: dict[str, int] = {}
    for number, p in enumerate(procs):
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        by_process.update({decision_id: number for decision_id in out.split()})
    assert len(by_process) == 200
    store = open_store(db)
    report = store.verify()
    assert report.ok and report.checked == 200, report.message
    chain = [r["id"] for r in store.list()]
    assert set(chain) == set(by_process)
    writers = [by_process[i] for i in chain]
    assert sum(a != b for a, b in itertools.pairwise(writers)) > 3  # the writers did interleave


KILLED = """
import sys
from router import Router
router = Router.load(sys.argv[1], audit=sys.argv[2])
while True:
    d = router.route({"goal": "decide", "stakes": "high", "description": "x" * 2000})
    print(d.decision_id, flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_process_killed_while_writing_leaves_a_valid_store(db: Path) -> None:
    for round_ in range(3):  # several kills at different moments, into the same store
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(ENGINE), str(db)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        completed: list[str] = []
        target = 40 + 17 * round_
        while len(completed) < target:
            line = proc.stdout.readline()
            assert line, "the writer stopped early"
            completed.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        completed += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
        proc.stdout.close()
        store = open_store(db)
        report = store.verify()
        assert report.ok, report.message
        stored = {r["id"] for r in store.list()}
        assert set(completed) <= stored
        store.close()


_SHARED: dict[str, Router] = {}  # inherited by forked children, never pickled


def _route_in_child(n: int) -> list[str]:
    router = _SHARED["router"]
    ids = [router.route({"goal": "plan", "options": i}).decision_id for i in range(n)]
    router.audit.flush()  # type: ignore[union-attr]
    return [i for i in ids if i]


@pytest.mark.skipif(sys.platform == "win32", reason="needs fork")
def test_forked_workers_sharing_a_router_lose_no_record(db: Path) -> None:
    import multiprocessing

    router = Router.load(ENGINE, audit=db)
    router.route({"goal": "decide"})  # the parent's connection is open and used before the fork
    _SHARED["router"] = router
    try:
        with multiprocessing.get_context("fork").Pool(4) as pool:
            ids = [i for chunk in pool.map(_route_in_child, [50] * 4) for i in chunk]
    finally:
        _SHARED.clear()
    assert len(set(ids)) == 200
    store = open_store(db)
    report = store.verify()
    assert report.ok and report.checked == 201
    assert set(ids) <= {r["id"] for r in store.list()}
    router.route({"goal": "cope"})  # the parent's own connection still works
    assert store.verify().checked == 202


def test_records_are_canonical_json_whatever_their_values(db: Path) -> None:
    from router.audit import _encoded_parts, _joined

    body = {"é": "ünï", "b": [1, 2.5, None], "a": {"z": (1, 2), "y": float("inf")}, "prev": GENESIS}
    parts = _encoded_parts(body)
    assert _joined(parts) == canonical_json(body)
    assert body["a"] == {"z": [1, 2], "y": "inf"}


def test_an_outcome_note_has_a_length_limit(db: Path) -> None:
    from router.audit import MAX_NOTE_CHARS
    from router.errors import AuditError

    router = Router.load(ENGINE, audit=db)
    decision = router.route({"goal": "decide"})
    assert router.audit is not None
    with pytest.raises(AuditError) as caught:
        router.audit.record_outcome(decision.decision_id or "", 3, note="x" * (MAX_NOTE_CHARS + 1))
    assert "limit" in caught.value.message
    router.audit.record_outcome(decision.decision_id or "", 3, note="x" * MAX_NOTE_CHARS)
