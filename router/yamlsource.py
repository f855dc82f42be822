"""YAML files → plain Python data, keeping where every value came from.

PyYAML gives marks on nodes; we build the data ourselves from the node graph so that
every key path maps to a (line, column), duplicate keys and tab indentation are caught
(a plain loader keeps the last duplicate silently), and aliases cannot expand without
bound (a "billion laughs" file is refused, not expanded). Nothing in a file is executed:
only YAML's safe scalar types are built.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
import yaml.constructor

from .errors import Location, Problem, SpecError

PathKey = tuple[str | int, ...]

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based
    style: str | None = None  # YAML scalar style: None (plain), "'", '"', "|", ">"


@dataclass
class SourceDoc:
    """Data read from one YAML file, with the position of every value and key."""

    file: str
    data: Any
    values: dict[PathKey, Mark] = field(default_factory=dict)
    keys: dict[PathKey, Mark] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> Location:
        """The position of the value at ``path`` (its key with ``key=True``), else its
        nearest ancestor's."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            mark = table.get(probe) or self.values.get(probe)
            if mark:
                return Location(self.file, mark.line, mark.column)
            probe = probe[:-1]
        mark = self.values.get(())
        return Location(self.file, mark.line if mark else 1, mark.column if mark else 1)

    def locate_in_scalar(self, path: PathKey, offset_line: int, offset_column: int) -> Location:
        """The position of a character inside a string value, from its 1-based line and
        column within the string (as a parser reports them)."""
        mark = self.values.get(tuple(path))
        if mark is None:
            return self.locate(path)
        if mark.style in ("|", ">"):
            # block scalars start on the line after the indicator; indentation is unknown
            # here, so point at the line and the best column we can
            return Location(self.file, mark.line + offset_line, offset_column)
        quote = 1 if mark.style in ("'", '"') else 0
        if offset_line <= 1:
            return Location(self.file, mark.line, mark.column + quote + offset_column - 1)
        return Location(self.file, mark.line + offset_line - 1, offset_column)

    def walk(self) -> Iterator[tuple[PathKey, Any]]:
        """Every (path, value) pair, depth first."""

        def visit(path: PathKey, value: Any) -> Iterator[tuple[PathKey, Any]]:
            yield path, value
            if isinstance(value, dict):
                for k, v in value.items():
                    yield from visit(path + (k,), v)
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    yield from visit(path + (i,), v)

        yield from visit((), self.data)


def _mark(node: yaml.Node) -> Mark:
    style = getattr(node, "style", None) if isinstance(node, yaml.ScalarNode) else None
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1, style)


def _tab_problems(file: str, text: str) -> list[Problem]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            problems.append(
                Problem(
                    "tab used for indentation",
                    Location(file, number, indent.index("\t") + 1),
                    "YAML indents with spaces only; replace the tab with spaces",
                )
            )
    return problems


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.doc = SourceDoc(file, None)
        self.problems: list[Problem] = []
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH:
            raise SpecError(
                "file expands to too many values",
                at=Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1),
                hint=f"at most {MAX_NODES} values and {MAX_DEPTH} levels of nesting; "
                "nested aliases can make a small file huge",
            )
        self.doc.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(
                        Problem("a key must be a plain name", self._loc(key_node))
                    )
                    continue
                key = self._scalar(key_node)
                if not isinstance(key, (str, int, float, bool)) or isinstance(key, float):
                    key = str(key_node.value)
                if key in result:
                    first = self.doc.keys.get(path + (key,))
                    where = f" (first at line {first.line})" if first else ""
                    self.problems.append(
                        Problem(f"duplicate key `{key}`{where}", self._loc(key_node),
                                "a YAML reader would silently keep only the last one")
                    )
                    continue
                self.doc.keys[path + (key,)] = _mark(key_node)
                result[key] = self.build(value_node, path + (key,), depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problems.append(Problem(_yaml_message(exc), self._loc(node)))
            return None

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    text = f"{context}, {problem}" if context else str(problem)
    return "yaml: " + text.strip()


def read_text(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of a file, refused with a located message when missing, too large or
    not UTF-8."""
    name = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SpecError(f"file not found: `{name}`", at=Location(name)) from None
    except OSError as exc:
        raise SpecError(f"cannot read `{name}`: {exc.strerror}", at=Location(name)) from None
    if path.is_dir():
        raise SpecError(f"`{name}` is a directory, not a file", at=Location(name))
    if size > max_bytes:
        raise SpecError(
            f"file is too large ({size} bytes)", at=Location(name),
            hint=f"files are limited to {max_bytes} bytes",
        )
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"file is not UTF-8 text (byte {exc.start})", at=Location(name)) from None
    except OSError as exc:
        raise SpecError(f"cannot read `{name}`: {exc.strerror}", at=Location(name)) from None


def parse_yaml(text: str, file: str, *, max_bytes: int = MAX_FILE_BYTES) -> SourceDoc:
    """Parse one YAML document, raising one SpecError that lists every problem found."""
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise SpecError("input is too large", at=Location(file),
                        hint=f"inputs are limited to {max_bytes} bytes")
    tabs = _tab_problems(file, text)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        raise SpecError(problems=tabs + [Problem(_yaml_message(exc), at)]) from None
    except yaml.YAMLError as exc:
        raise SpecError(problems=tabs + [Problem(_yaml_message(exc), Location(file))]) from None
    except RecursionError:
        raise SpecError("file is nested too deeply", at=Location(file)) from None
    builder = _Builder(file)
    if node is None:
        builder.doc.data = None
    else:
        builder.doc.data = builder.build(node, (), 0)
    problems = tabs + builder.problems
    if problems:
        raise SpecError(problems=problems)
    return builder.doc


def load_yaml(path: Path | str, *, display: str | None = None) -> SourceDoc:
    """Read and parse a YAML file; errors name ``display`` (default: the path)."""
    path = Path(path)
    return parse_yaml(read_text(path), display or str(path))
