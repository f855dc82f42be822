"""The audit trail: a durable, tamper-evident record of every decision and of how the
chosen tool worked out.

Every record (a decision, or an outcome linked to one) is a JSON object hashed over its
canonical form together with the hash of the record before it, so that a changed,
deleted or reordered record breaks the chain and ``verify()`` names the first record
affected. ``head()`` gives the latest record's id and hash; kept elsewhere, it proves
later that nothing was cut from the end.

The store is SQLite (WAL journal), behind the small ``AuditStore`` protocol so that
another database could take its place. Nothing else in Discern touches sqlite3.

>>> from router import Router
>>> store = open_store("audit.db")
>>> decision = Router.load().route({"goal": "decide"})
>>> decision_id = store.record(decision, given={"goal": "decide"})
>>> outcome_id = store.record_outcome(decision_id, 4, note="helped")
>>> store.verify().ok
True
"""

from __future__ import annotations

import atexit
import csv
import hashlib
import hmac
import io
import json
import math
import os
import secrets
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .errors import AuditError

if TYPE_CHECKING:
    from typing_extensions import Self

    from .decision import Decision

RECORD_FORMAT_VERSION = 1
SCHEMA_VERSION = 1
APPLICATION_ID = 0x4453_4E41  # "DSNA": marks a file as a Discern audit store
GENESIS = "sha256:" + "0" * 64  # the "previous hash" of the first record
BUSY_TIMEOUT_S = 30.0
SQLITE_HEADER = b"SQLite format 3\x00"

DROPPED = "dropped"
HASHED = "hashed"
EVIDENCE = "evidence-as-pattern"
DESCRIPTION = "description"

# An outcome note is a few words on how it went, not a document.
MAX_NOTE_CHARS = 2000


def default_store_path() -> Path:
    """Where the audit store lives unless a path is given: the user's data folder."""
    import platformdirs

    return platformdirs.user_data_path("discern") / "audit.db"


# --- ids, times, hashes -------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_id_lock = threading.Lock()
_last_id: list[int] = [0, 0]  # [milliseconds, randomness] of the last id made here


def new_id() -> str:
    """A 26-character ULID: 48 bits of milliseconds since 1970 then 80 random bits, in
    Crockford base32, so ids sort by time. Within one millisecond a process counts up."""
    with _id_lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_id[0]:
            ms, rand = _last_id[0], _last_id[1] + 1
            if rand >= 1 << 80:  # 2**80 ids in one millisecond: wait for the next
                ms, rand = ms + 1, secrets.randbits(80)
        else:
            rand = secrets.randbits(79)  # leaves room to count up within the millisecond
        _last_id[0], _last_id[1] = ms, rand
    value = (ms << 80) | rand
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def now_iso() -> str:
    """The current time in UTC, ISO 8601 with microseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    """A JSON-ready copy: tuples become lists, non-finite floats become text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def canonical_json(obj: Any) -> str:
    """The one text of a JSON value that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _encoded_parts(body: dict[str, Any]) -> dict[str, str]:
    """Each top-level value of a record as canonical JSON, so that the record's text can
    be completed with its ``prev`` when it is written (a value JSON cannot hold exactly,
    such as a tuple or an infinite float, is made plain first, in the body too)."""
    parts: dict[str, str] = {}
    for key, value in body.items():
        try:
            parts[key] = canonical_json(value)
        except (TypeError, ValueError):
            body[key] = _plain(value)
            parts[key] = canonical_json(body[key])
    return parts


def _joined(parts: Mapping[str, str]) -> str:
    """The canonical JSON of a record from its encoded parts: the same text as
    ``canonical_json`` of the whole record."""
    return "{" + ",".join(f"{canonical_json(k)}:{parts[k]}" for k in sorted(parts)) + "}"


def record_hash(body_text: str) -> str:
    return "sha256:" + hashlib.sha256(body_text.encode("utf-8")).hexdigest()


# --- redaction ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Redactor:
    """Applies a policy's ``audit`` settings to what is recorded."""

    drop: frozenset[str]
    hashed: frozenset[str]
    keep_text: bool
    key: bytes

    @classmethod
    def for_policy(cls, settings: Any, key: bytes) -> Redactor:
        drop = frozenset(getattr(settings, "drop", None) or ())
        hashed = set(getattr(settings, "hash", None) or ())
        keep_text = bool(getattr(settings, "keep_description", False))
        if not keep_text and DESCRIPTION not in drop:
            hashed.add(DESCRIPTION)
        return cls(drop, frozenset(hashed - drop), keep_text, key)

    def keyed_hash(self, feature: str, value: Any) -> str:
        """HMAC-SHA256 with the store's secret key: equal values of a feature give equal
        hashes, but a value cannot be recovered or guessed without the key."""
        message = (feature + "\x00" + canonical_json(_plain(value))).encode("utf-8")
        return "hmac-sha256:" + hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def how(self, feature: str) -> str | None:
        if feature in self.drop:
            return DROPPED
        if feature in self.hashed:
            return HASHED
        return None

    def context(self, context: Mapping[str, Any], shown: Mapping[str, Any] | None = None,
                seen: dict[str, str] | None = None) -> dict[str, Any]:
        """A context with dropped features left out and hashed features as keyed hashes.
        A hashed feature is hashed from its checked value (``shown``) when there is one, so
        that the given context and the result's context agree."""
        out: dict[str, Any] = {}
        for name, value in context.items():
            how = self.how(name)
            if how is not None and seen is not None:
                seen[name] = how
            if how == DROPPED:
                continue
            if how == HASHED and value is not None:
                basis = shown[name] if shown is not None and name in shown else value
                out[name] = self.keyed_hash(name, basis)
            else:
                out[name] = value
        return out

    def texts(self, given: Mapping[str, Any], result: Mapping[str, Any]) -> list[str]:
        """The free text that must not appear anywhere in the record, longest first."""
        if self.keep_text:
            return []
        found: set[str] = set()
        for source in (given, result.get("context") or {}):
            value = source.get(DESCRIPTION)
            if isinstance(value, str) and value.strip():
                found.add(value)
        for item in result.get("inferred") or []:
            evidence = item.get("evidence")
            if isinstance(evidence, str) and len(evidence.strip()) >= 3:
                found.add(evidence)
        return sorted(found, key=len, reverse=True)

    def apply(self, given: Mapping[str, Any], result: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, str]]]:
        """(given, result, redacted): both redacted, and what was redacted and how."""
        seen: dict[str, str] = {}
        texts = self.texts(given, result)
        shown = result.get("context") or {}
        red_given = self.context(given, shown, seen)
        red_result = dict(result)
        red_result["context"] = self.context(shown, shown, seen)
        inferred = []
        replaced_evidence = False
        for item in result.get("inferred") or []:
            item = dict(item)
            how = self.how(str(item.get("feature")))
            if how is not None:
                seen[str(item.get("feature"))] = how
            if how == DROPPED:
                continue
            if how == HASHED:
                item["value"] = self.keyed_hash(str(item["feature"]), item.get("value"))
            if not self.keep_text and item.get("evidence"):
                item["evidence"] = item.get("pattern") or "(redacted)"
                replaced_evidence = True
            inferred.append(item)
        red_result["inferred"] = inferred
        if texts:  # anything else that quotes the words (e.g. a reason citing them)
            red_result = _scrub(red_result, texts, skip=("context", "inferred"))
        redacted = [{"feature": name, "how": how} for name, how in sorted(seen.items())]
        if replaced_evidence:
            redacted.append({"feature": "inferred.evidence", "how": EVIDENCE})
        return red_given, red_result, redacted


def _scrub(value: Any, texts: Sequence[str], skip: Sequence[str] = ()) -> Any:
    if isinstance(value, str):
        for text in texts:
            if text in value:
                value = value.replace(text, "[redacted]")
        return value
    if isinstance(value, Mapping):
        return {k: (v if k in skip else _scrub(v, texts)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, texts) for v in value]
    return value


# --- the interface ------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifyReport:
    """What ``verify()`` found: whether the chain holds, how many records it checked, and
    the first record that does not fit (changed, or out of place after a deletion or a
    reordering)."""

    ok: bool
    checked: int
    first_broken_id: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "first_broken_id": self.first_broken_id,
                "message": self.message}


@runtime_checkable
class AuditStore(Protocol):
    """What Discern needs of an audit store; SQLite is one implementation."""

    def record(self, decision: Decision, given: Mapping[str, object] | None = None) -> str:
        """Append a decision; set and return its id."""

    def record_outcome(self, decision_id: str, rating: int, used: str | None = None,
                       note: str | None = None) -> str:
        """Append how a decision worked out (rating 1..5); return the outcome's id."""

    def get(self, decision_id: str) -> dict[str, Any]:
        """One record, a decision with its ``outcomes``; AuditError if unknown."""

    def list(self, since: str | datetime | None = None, tool: str | None = None,
             policy: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Decision records, oldest first, each with its ``outcomes``."""

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """One flat dict per decision, with its ``decision_id`` and ``outcomes``."""

    def verify(self) -> VerifyReport:
        """Recompute the chain."""

    def head(self) -> tuple[str, str] | None:
        """The latest record's (id, hash), or None for an empty store."""

    def flush(self) -> None:
        """Commit anything buffered."""

    def close(self) -> None:
        """Flush and release the store."""


# --- SQLite -------------------------------------------------------------------------------------

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE IF NOT EXISTS records (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('decision', 'outcome')),
            time TEXT NOT NULL,
            decision_id TEXT,
            tool TEXT,
            policy TEXT,
            body TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS records_decision ON records (decision_id)",
        "CREATE INDEX IF NOT EXISTS records_time ON records (kind, time)",
    ),
}

_open_stores: weakref.WeakSet[SqliteAuditStore] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:  # best effort: a crash or SIGKILL skips this
    for store in list(_open_stores):
        try:
            store.close()
        except Exception:  # noqa: BLE001, S110 - at exit there is no one left to tell
            pass


class SqliteAuditStore:
    """The audit store in one SQLite file (WAL journal).

    By default every record is committed before ``record()`` returns, so a decision
    that ``route()`` returned is on disk. With ``batch=N`` records are kept in memory
    and written N at a time (and on ``flush()``, ``close()`` and, as a best effort, at
    interpreter exit): much faster, but a decision returned by ``route()`` and not yet
    flushed is lost if the process crashes or is killed.

    Safe to share between threads of one process; several processes may write to one
    file at once (each write takes the lock before reading the chain's head).
    """

    def __init__(self, path: str | os.PathLike[str], *, batch: int = 1, create: bool = True,
                 timeout: float = BUSY_TIMEOUT_S) -> None:
        if batch < 1:
            raise AuditError(f"batch size must be at least 1, not {batch}")
        self.path = Path(path).expanduser()
        self.batch = batch
        self._lock = threading.RLock()
        self._pending: list[tuple[dict[str, Any], dict[str, str]]] = []  # (body, its encoded parts)
        self._timeout = timeout
        self._pid = os.getpid()
        self._conn: sqlite3.Connection | None = None
        self._conn = self._open(create, timeout)
        try:
            self._key = bytes.fromhex(self._meta("secret"))
        except (AuditError, ValueError, TypeError) as error:
            self._conn.close()
            raise AuditError(f"{self.path}: the audit store's secret key is missing or damaged") from error
        _open_stores.add(self)

    # -- opening ----------------------------------------------------------------------------------

    def _open(self, create: bool, timeout: float) -> sqlite3.Connection:
        path = self.path
        where = str(path)
        if path.is_dir():
            raise AuditError(f"audit store {where} is a directory, not a file",
                             hint="give the path of a file, e.g. --audit DIR/audit.db")
        if not path.exists():
            if not create:
                raise AuditError(f"no audit store at {where} (nothing has been recorded there)")
            self._create_file(path)
        elif not path.is_file():
            raise AuditError(f"audit store {where} is not a regular file")
        else:
            try:
                with open(path, "rb") as f:
                    header = f.read(len(SQLITE_HEADER))
            except OSError as error:
                raise AuditError(f"cannot read audit store {where}: {error.strerror or error}") from error
            if header and header != SQLITE_HEADER:
                raise AuditError(f"{where} is not an audit store (not a SQLite database); it was left untouched",
                                 hint="give another path with --audit or DISCERN_AUDIT")
            if not header:  # an empty file: a new store, kept private
                try:
                    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
                except OSError:
                    pass
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise AuditError(f"cannot open audit store {where}: {error}") from error
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            # Read before writing anything: a damaged or foreign file must stay as it was.
            # One read transaction, so that a store another process is creating right now
            # is seen either empty or complete, never half made.
            conn.execute("BEGIN")
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            finally:
                conn.execute("COMMIT")
            if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables - {"sqlite_sequence"}):
                raise AuditError(f"{where} is a SQLite database but not a Discern audit store; it was left untouched",
                                 hint="give another path with --audit or DISCERN_AUDIT")
            if version > SCHEMA_VERSION:
                raise AuditError(f"audit store {where} has schema version {version}, newer than this Discern "
                                 f"understands ({SCHEMA_VERSION})", hint="upgrade Discern to read it")
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"), timeout)
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if version < SCHEMA_VERSION:
                self._migrate(conn)
        except AuditError:
            conn.close()
            raise
        except sqlite3.Error as error:
            conn.close()
            raise AuditError(f"audit store {where} cannot be read ({error}); it may be damaged and was left untouched",
                             hint="`discern audit verify` on a copy, or give another path with --audit") from error
        return conn

    @staticmethod
    def _create_file(path: Path) -> None:
        parent = path.parent
        try:
            if not parent.exists():
                parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except FileExistsError:
            pass  # another process made it first
        except OSError as error:
            raise AuditError(f"cannot create audit store {path}: {error.strerror or error}") from error

    @staticmethod
    def _retry(action: Any, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return action()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if app_id != APPLICATION_ID and tables - {"sqlite_sequence"}:  # changed since it was checked
                raise AuditError(f"{self.path} is a SQLite database but not a Discern audit store; "
                                 "it was left untouched")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)", (secrets.token_hex(32),))
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?)", (now_iso(),))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- small helpers ---------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise AuditError(f"audit store {self.path} is closed")
        self._adopt_after_fork()
        return self._conn

    def _adopt_after_fork(self) -> None:
        """In a forked child: a connection of its own (SQLite forbids using the parent's),
        and none of the records the parent had queued (they are the parent's to write)."""
        if os.getpid() != self._pid and self._conn is not None:
            self._pid = os.getpid()
            self._pending = []
            self._conn = self._open(False, self._timeout)

    def _meta(self, key: str) -> str:
        row = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        if not row:
            raise AuditError(f"{self.path}: the audit store has no `{key}`")
        return str(row[0][0])

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self.conn.execute(sql, args).fetchall()
            except sqlite3.Error as error:
                raise AuditError(f"audit store {self.path} cannot be read: {error}") from error

    # -- writing ---------------------------------------------------------------------------------

    def record(self, decision: Decision, given: Mapping[str, object] | None = None) -> str:
        """Append a decision (redacted as its policy's ``audit`` section says); set
        ``decision.decision_id`` and return it."""
        from . import __version__

        policy = decision.policy
        record_id = new_id()
        previous_id = decision.decision_id
        decision.decision_id = record_id
        try:
            result = decision.to_dict()
            given_map = dict(given if given is not None else decision.context)
            redactor = Redactor.for_policy(policy.audit, self._key)
            red_given, red_result, redacted = redactor.apply(given_map, result)
            body = {
                "format": RECORD_FORMAT_VERSION,
                "kind": "decision",
                "id": record_id,
                "time": now_iso(),
                "policy": {"name": policy.name, "version": policy.version, "hash": policy.hash,
                           "tool_hashes": dict(sorted(policy.tool_hashes.items()))},
                "given": red_given,
                "result": red_result,
                "redacted": redacted,
                "discern_version": __version__,
            }
            self._append(body)
        except BaseException:
            decision.decision_id = previous_id
            raise
        return record_id

    def record_outcome(self, decision_id: str, rating: int, used: str | None = None,
                       note: str | None = None) -> str:
        """Append how a decision worked out: ``rating`` 1 (it did not help) to 5 (it
        helped a lot), ``used`` the tool actually used if not the one chosen, a ``note``."""
        import re

        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise AuditError(f"rating must be a whole number from 1 to 5, not {rating!r}")
        if used is not None and not re.match(r"^[a-z0-9][a-z0-9_\-]*$", used):
            raise AuditError(f"`{used}` is not a tool id (lower-case letters, digits, `-`, `_`)")
        if note is not None and not isinstance(note, str):
            raise AuditError("a note must be text")
        if note is not None and len(note) > MAX_NOTE_CHARS:
            raise AuditError(f"the note is {len(note)} characters long; the limit is {MAX_NOTE_CHARS}")
        with self._lock:
            if not self._decision_exists(decision_id):
                raise AuditError(f"no decision `{decision_id}` in audit store {self.path}",
                                 hint="`discern audit list` shows the decisions recorded")
            from . import __version__

            record_id = new_id()
            body = {
                "format": RECORD_FORMAT_VERSION,
                "kind": "outcome",
                "id": record_id,
                "time": now_iso(),
                "decision_id": decision_id,
                "rating": rating,
                "used": used,
                "note": note,
                "discern_version": __version__,
            }
            self._append(body)
        return record_id

    def _decision_exists(self, decision_id: str) -> bool:
        if any(b["id"] == decision_id and b["kind"] == "decision" for b, _ in self._pending):
            return True
        return bool(self._query("SELECT 1 FROM records WHERE id = ? AND kind = 'decision'", (decision_id,)))

    def _append(self, body: dict[str, Any]) -> None:
        with self._lock:
            entry = (body, _encoded_parts(body))
            self._adopt_after_fork()  # before queueing, so a child never drops its own record
            self._pending.append(entry)
            if len(self._pending) >= self.batch:
                try:
                    self.flush()
                except BaseException:
                    # the caller sees this record fail, so it must not be written later;
                    # records returned before it stay queued for the next flush
                    self._pending.remove(entry)
                    raise

    def flush(self) -> None:
        """Write every buffered record, chained to the current head, in one transaction."""
        with self._lock:
            if not self._pending:
                return
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")  # the write lock, before reading the head
                try:
                    row = conn.execute("SELECT hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
                    prev = row[0] if row else GENESIS
                    rows = []
                    for body, parts in self._pending:
                        text = _joined({**parts, "prev": canonical_json(prev)})
                        digest = record_hash(text)
                        rows.append((*_columns(body), text, digest))
                        prev = digest
                    conn.executemany(
                        "INSERT INTO records (id, kind, time, decision_id, tool, policy, body, hash) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                raise AuditError(f"cannot write to audit store {self.path}: {error}") from error
            self._pending.clear()

    def close(self) -> None:
        """Flush and close; the store cannot be used afterwards."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self.flush()
            finally:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass
                self._conn = None
                _open_stores.discard(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------

    def _loaded(self, rows: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        out = []
        for body, digest in rows:
            try:
                record = json.loads(body)
            except ValueError as error:
                raise AuditError(f"audit store {self.path} holds a damaged record (`discern audit verify`)") from error
            record["hash"] = digest
            out.append(record)
        return out

    def _outcomes_of(self, decision_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {d: [] for d in decision_ids}
        if not decision_ids:
            return found
        if len(decision_ids) <= 500:
            marks = ",".join("?" * len(decision_ids))
            rows = self._query(f"SELECT body, hash FROM records WHERE kind = 'outcome' AND decision_id IN ({marks}) "
                               "ORDER BY seq", tuple(decision_ids))
        else:
            rows = self._query("SELECT body, hash FROM records WHERE kind = 'outcome' ORDER BY seq")
        for outcome in self._loaded(rows):
            if outcome.get("decision_id") in found:
                found[outcome["decision_id"]].append(outcome)
        for body, _ in self._pending:
            if body["kind"] == "outcome" and body["decision_id"] in found:
                found[body["decision_id"]].append({**body, "hash": None})
        return found

    def get(self, decision_id: str) -> dict[str, Any]:
        """The record with this id (a decision comes with its ``outcomes``)."""
        with self._lock:
            rows = self._query("SELECT body, hash FROM records WHERE id = ?", (decision_id,))
            if rows:
                record = self._loaded(rows)[0]
            else:
                pending = [b for b, _ in self._pending if b["id"] == decision_id]
                if not pending:
                    raise AuditError(f"no decision `{decision_id}` in audit store {self.path}",
                                     hint="`discern audit list` shows the decisions recorded")
                record = {**pending[0], "hash": None}
            if record.get("kind") == "decision":
                record["outcomes"] = self._outcomes_of([decision_id])[decision_id]
            return record

    def list(self, since: str | datetime | None = None, tool: str | None = None,
             policy: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Decision records, oldest first, each with its ``outcomes``: those made at or
        after ``since`` (a datetime, or ISO 8601 text; without a zone, local time), whose
        chosen tool is ``tool``, under the policy named ``policy``; with ``limit``, only
        the latest so many."""
        with self._lock:
            self.flush()
            where: list[str] = ["kind = 'decision'"]
            args: list[Any] = []
            if since is not None:
                where.append("time >= ?")
                args.append(parse_since(since))
            if tool is not None:
                where.append("tool = ?")
                args.append(tool)
            if policy is not None:
                where.append("policy = ?")
                args.append(policy)
            sql = f"SELECT body, hash, seq FROM records WHERE {' AND '.join(where)} ORDER BY seq DESC"
            if limit is not None:
                sql += " LIMIT ?"
                args.append(max(0, int(limit)))
            rows = self._query(sql, args)[::-1]
            records = self._loaded((body, digest) for body, digest, _ in rows)
            outcomes = self._outcomes_of([r["id"] for r in records])
            for record in records:
                record["outcomes"] = outcomes[record["id"]]
            return records

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """One flat dict per decision (see ``EXPORT_COLUMNS``), oldest first, with its
        outcomes in ``outcomes``."""
        with self._lock:
            self.flush()
            outcomes: dict[str, list[dict[str, Any]]] = {}
            for outcome in self._loaded(self._query(
                    "SELECT body, hash FROM records WHERE kind = 'outcome' ORDER BY seq")):
                outcomes.setdefault(str(outcome.get("decision_id")), []).append(
                    {k: outcome.get(k) for k in ("id", "time", "rating", "used", "note")})
            rows = self._query("SELECT body, hash FROM records WHERE kind = 'decision' ORDER BY seq")
        for record in self._loaded(rows):
            yield export_row(record, outcomes.get(record["id"], []))

    def head(self) -> tuple[str, str] | None:
        """The latest record's (id, hash), or None when nothing is recorded."""
        with self._lock:
            self.flush()
            rows = self._query("SELECT id, hash FROM records ORDER BY seq DESC LIMIT 1")
            return (rows[0][0], rows[0][1]) if rows else None

    def verify(self) -> VerifyReport:
        """Recompute every record's hash and link, oldest first. Reports the first record
        that was changed, or that no longer follows the one before it (a record before it
        was deleted, or the records were reordered)."""
        with self._lock:
            self.flush()
            try:
                cursor = self.conn.execute(
                    "SELECT seq, id, kind, time, decision_id, tool, policy, body, hash FROM records ORDER BY seq")
                return _verify_rows(cursor)
            except sqlite3.Error as error:
                raise AuditError(f"audit store {self.path} cannot be read: {error}") from error

    def count(self) -> int:
        with self._lock:
            self.flush()
            return int(self._query("SELECT COUNT(*) FROM records")[0][0])


def _columns(body: Mapping[str, Any]) -> tuple[Any, ...]:
    """The indexed columns of a record, all taken from its body."""
    if body["kind"] == "decision":
        result = body.get("result") or {}
        return (body["id"], "decision", body["time"], None, result.get("tool"), (body.get("policy") or {}).get("name"))
    return (body["id"], "outcome", body["time"], body.get("decision_id"), body.get("used"), None)


def _verify_rows(rows: Iterable[tuple[Any, ...]]) -> VerifyReport:
    prev = GENESIS
    checked = 0
    ids: set[str] = set()
    for _seq, record_id, kind, when, decision_id, tool, policy, body, digest in rows:
        problem = _row_problem(record_id, kind, when, decision_id, tool, policy, body, digest, prev, ids)
        if problem is not None:
            return VerifyReport(False, checked, record_id, f"record {record_id} (number {checked + 1}): {problem}")
        ids.add(record_id)
        prev = digest
        checked += 1
    return VerifyReport(True, checked, None, f"the chain of {checked} records is intact")


def _row_problem(record_id: str, kind: str, when: str, decision_id: str | None, tool: str | None,
                 policy: str | None, body: str, digest: str, prev: str, earlier: set[str]) -> str | None:
    """Why a stored row does not fit the chain after ``prev``, or None when it does."""
    if record_hash(body) != digest:
        return "its content does not match its hash (the record was changed)"
    try:
        parsed = json.loads(body)
    except ValueError:
        return "its content is not JSON"
    if not isinstance(parsed, dict):
        return "its content is not a record"
    if parsed.get("prev") != prev:
        return "it does not follow the record before it (a record was deleted, inserted or moved)"
    try:
        expected = _columns(parsed)
    except (KeyError, TypeError, AttributeError):
        return "its content lacks required fields"
    if (record_id, kind, when, decision_id, tool, policy) != expected:
        return "its indexed columns do not match its content (the record was changed)"
    if kind == "outcome" and decision_id not in earlier:
        return f"it rates decision {decision_id}, which is not earlier in the chain"
    return None


def parse_since(since: str | datetime) -> str:
    """An ISO 8601 date or date-time (local time without a zone) as the store's UTC text."""
    if isinstance(since, datetime):
        moment = since
    else:
        text = str(since).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise AuditError(f"`{since}` is not an ISO 8601 date or time",
                             hint="e.g. 2024-05-01 or 2024-05-01T09:30") from error
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the person's local time
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


# --- export -------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "decision_id", "time", "policy", "policy_version", "policy_hash", "tool", "tool_hash", "chosen_by",
    "confident", "robust", "runner_up", "margin", "unknowns", "rules_fired", "context", "redacted",
    "discern_version", "hash", "outcomes",
)


def export_row(record: Mapping[str, Any], outcomes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    result = record.get("result") or {}
    policy = record.get("policy") or {}
    tool = result.get("tool")
    return {
        "decision_id": record["id"],
        "time": record.get("time"),
        "policy": policy.get("name"),
        "policy_version": policy.get("version"),
        "policy_hash": policy.get("hash"),
        "tool": tool,
        "tool_hash": (policy.get("tool_hashes") or {}).get(tool) if tool else None,
        "chosen_by": result.get("chosen_by"),
        "confident": result.get("confident"),
        "robust": result.get("robust"),
        "runner_up": result.get("runner_up"),
        "margin": result.get("margin"),
        "unknowns": result.get("unknowns", []),
        "rules_fired": result.get("rules_fired", []),
        "context": record.get("given", {}),
        "redacted": record.get("redacted", []),
        "discern_version": record.get("discern_version"),
        "hash": record.get("hash"),
        "outcomes": [dict(o) for o in outcomes],
    }


def write_jsonl(rows: Iterable[Mapping[str, Any]], out: io.TextIOBase | Any) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
        n += 1
    return n


def write_csv(rows: Iterable[Mapping[str, Any]], out: io.TextIOBase | Any) -> int:
    """The export columns, with lists and objects as JSON text in their cell."""
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict))
                             else "" if v is None else str(v).lower() if isinstance(v, bool) else v)
                         for k, v in row.items()})
        n += 1
    return n


# --- opening ------------------------------------------------------------------------------------

def open_store(path_or_store: str | os.PathLike[str] | AuditStore | None = None, *, batch: int = 1,
               create: bool = True) -> AuditStore:
    """A store for a path (None: the default location) or the store itself. A path that
    is a directory, a damaged file or not a Discern store gives AuditError and is left
    as it was; a missing or empty file becomes a new store (unless ``create=False``)."""
    if path_or_store is None:
        return SqliteAuditStore(default_store_path(), batch=batch, create=create)
    if isinstance(path_or_store, (str, os.PathLike)):
        return SqliteAuditStore(path_or_store, batch=batch, create=create)
    if isinstance(path_or_store, AuditStore):
        return path_or_store
    raise AuditError(f"an audit store must be a path or a store, not {type(path_or_store).__name__}")


__all__ = [
    "EXPORT_COLUMNS",
    "AuditStore",
    "Redactor",
    "SqliteAuditStore",
    "VerifyReport",
    "canonical_json",
    "default_store_path",
    "export_row",
    "new_id",
    "open_store",
    "parse_since",
    "write_csv",
    "write_jsonl",
]
