"""A cache of what is slow to rebuild when a policy loads: parsed YAML files (with their
positions) and parsed conditions, keyed by content, so `discern` starts quickly.

It only ever saves work: a missing, unreadable or stale cache is ignored, and nothing
but plain JSON is read from it (never code). ``DISCERN_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .yamlsource import Mark, SourceDoc

FORMAT = 1


def cache_path(policy: Path) -> Path | None:
    """The cache file for one policy file: small, so reading it costs little."""
    return cache_file("load-" + hashlib.sha256(str(policy.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:20]
                      + ".json")


def cache_file(name: str) -> Path | None:
    """Where the cache keeps the file ``name``, or None when caching is off."""
    if os.environ.get("DISCERN_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("DISCERN_CACHE_DIR")
    if explicit:
        return Path(explicit) / name
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("discern")) / name
    except Exception:  # noqa: BLE001 - no cache is better than no start
        return None


def read_json(path: Path, key: str) -> Any:
    """The object written with ``key`` (its "key" field) at ``path``, or None when the file is
    missing, unreadable, or was written for another key."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stored if isinstance(stored, dict) and stored.get("key") == key else None


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` to ``path`` whole or not at all (a reader never sees half a file)."""
    temp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".cache-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, separators=(",", ":"))
        os.replace(temp, path)
    except OSError:
        if temp is not None:  # a full disk leaves no half-written file behind
            Path(temp).unlink(missing_ok=True)


class _CachedDoc(SourceDoc):
    """A document from the cache; its positions are rebuilt only if a message needs one."""

    raw_marks: tuple[Any, Any] = ([], [])

    def locate(self, path: Any, *, key: bool = False) -> Any:
        self._unpack()
        return super().locate(path, key=key)

    def locate_in_scalar(self, path: Any, offset_line: int, offset_column: int) -> Any:
        self._unpack()
        return super().locate_in_scalar(path, offset_line, offset_column)

    def _unpack(self) -> None:
        if self.values or not self.raw_marks[0]:
            return
        values, keys = self.raw_marks
        self.values = {tuple(p): Mark(line, column, style) for p, line, column, style in values}
        self.keys = {tuple(p): Mark(line, column, style) for p, line, column, style in keys}


class LoadCache:
    """Entries read once when a load starts and written back once when it ends."""

    def __init__(self, path: Path | None, version: str) -> None:
        self.path = path
        self.version = version
        self.docs: dict[str, Any] = {}
        self.trees: dict[str, Any] = {}
        self.used_docs: set[str] = set()
        self.used_trees: set[str] = set()
        self.changed = False
        if path is None:
            return
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("format") == FORMAT and stored.get("version") == version:
                self.docs = dict(stored.get("docs", {}))
                self.trees = dict(stored.get("trees", {}))
        except (OSError, ValueError, AttributeError, TypeError):
            pass

    @staticmethod
    def key(text: str, name: str) -> str:
        return hashlib.sha256(f"{name}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()

    def get_doc(self, text: str, name: str) -> SourceDoc | None:
        key = self.key(text, name)
        entry = self.docs.get(key)
        if entry is None:
            return None
        try:
            doc = _CachedDoc(name, entry["data"])
            doc.raw_marks = (entry["values"], entry["keys"])
        except (KeyError, TypeError):
            return None
        self.used_docs.add(key)
        return doc

    def put_doc(self, text: str, name: str, doc: SourceDoc) -> None:
        data = doc.data
        try:
            if json.loads(json.dumps(data)) != data:  # keep only what JSON carries exactly
                return
        except (TypeError, ValueError):
            return
        key = self.key(text, name)
        self.docs[key] = {
            "data": data,
            "values": [[list(p), m.line, m.column, m.style] for p, m in doc.values.items()],
            "keys": [[list(p), m.line, m.column, m.style] for p, m in doc.keys.items()],
        }
        self.used_docs.add(key)
        self.changed = True

    def get_tree(self, text: str) -> Any:
        entry = self.trees.get(text)
        if entry is not None:
            self.used_trees.add(text)
        return entry

    def put_tree(self, text: str, data: Any) -> None:
        self.trees[text] = data
        self.used_trees.add(text)
        self.changed = True

    def save(self) -> None:
        """Write back what this load used (a cache file serves one policy, so what it did
        not use is stale)."""
        unused = len(self.docs) > len(self.used_docs) or len(self.trees) > len(self.used_trees)
        if self.path is None or not (self.changed or unused):
            return
        docs = {k: v for k, v in self.docs.items() if k in self.used_docs}
        trees = {k: v for k, v in self.trees.items() if k in self.used_trees}
        payload = {"format": FORMAT, "version": self.version, "docs": docs, "trees": trees}
        write_json(self.path, payload)
