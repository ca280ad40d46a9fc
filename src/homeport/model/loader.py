"""Read a platform file into plain data, remembering where every value came from.

PyYAML's libyaml composer keeps each node's start mark; we walk the node tree once, building plain
Python values and a map from each value's path (keys and list indexes) to its line and column.
``${ENV}`` interpolation happens during that walk, so an unset variable is reported at its scalar.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from homeport.errors import ConfigError, Problem

PathKey = tuple[str | int, ...]

_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$")
_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()
DEFAULT_FILENAME = "homeport.yaml"


class Mark(NamedTuple):
    """A 1-based line and column in the platform file.

    A tuple of two ints: a large file has one per value and key, and the garbage collector
    stops tracking such tuples, where it would scan instances of a class on every collection.
    """

    line: int
    column: int


@dataclass
class SourceMap:
    """Where each value of the loaded data stands in the file."""

    file: str
    values: dict[PathKey, Mark] = field(default_factory=dict)
    keys: dict[PathKey, Mark] = field(default_factory=dict)
    interpolated: set[PathKey] = field(default_factory=set)

    def locate(self, path: PathKey, *, key: bool = False) -> Mark:
        """The mark of ``path`` (of its key if ``key``), else of its nearest known ancestor."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        for end in range(len(path) - 1, -1, -1):
            prefix = path[:end]
            if prefix in self.values:
                return self.values[prefix]
        return Mark(1, 1)

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> Problem:
        """A Problem located at ``path``."""
        mark = self.locate(path, key=key)
        return Problem(self.file, mark.line, mark.column, message)


@dataclass
class LoadedFile:
    """The platform file as plain data plus its source map."""

    path: Path
    data: dict[str, Any]
    source: SourceMap
    problems: list[Problem] = field(default_factory=list)


def resolve_path(given: str | os.PathLike[str] | None) -> Path:
    """The platform file named by ``-f``: a file, or a directory holding homeport.yaml."""
    path = Path(given) if given is not None else Path(DEFAULT_FILENAME)
    if path.is_dir():
        candidate = path / DEFAULT_FILENAME
        if not candidate.is_file():
            raise ConfigError(
                [
                    Problem(
                        str(path),
                        1,
                        1,
                        f"no {DEFAULT_FILENAME} in this directory; "
                        f"pass the platform file with -f FILE",
                    )
                ]
            )
        return candidate
    if not path.exists():
        raise ConfigError(
            [
                Problem(
                    str(path),
                    1,
                    1,
                    "file not found; pass the platform file with -f FILE "
                    f"(default ./{DEFAULT_FILENAME})",
                )
            ]
        )
    return path


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic trees.

    A big file makes hundreds of thousands of nodes and values, none in a cycle; the collector
    would otherwise walk all of them again and again as they are made (half the load time).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_file(
    given: str | os.PathLike[str] | None, env: dict[str, str] | None = None
) -> LoadedFile:
    """Read and parse the platform file; raise ConfigError for every problem found."""
    path = resolve_path(given)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), 1, 1, f"cannot read the file: {exc}")]) from exc
    return load_text(text, str(path), path=path, env=env)


def load_text(
    text: str,
    filename: str,
    *,
    path: Path | None = None,
    env: dict[str, str] | None = None,
) -> LoadedFile:
    """Parse platform-file text; ``filename`` is used in messages."""
    walker = _Walker(SourceMap(filename), os.environ if env is None else env)
    with paused_gc():
        root = _compose(text, filename)
        data = walker.build(root, ())
        del root  # free the node tree while the collector is paused: it never has to scan it
    if not isinstance(data, dict):
        raise ConfigError(walker.problems)
    return LoadedFile(path or Path(filename), data, walker.source, walker.problems)


def _compose(text: str, filename: str) -> yaml.MappingNode:
    """The YAML node tree of the file, which must be a mapping."""
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_syntax_problem(filename, exc)]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(filename, 1, 1, f"YAML error: {exc}")]) from exc
    if root is None:
        raise ConfigError(
            [Problem(filename, 1, 1, "the file is empty; expected a mapping with at least 'name'")]
        )
    if not isinstance(root, yaml.MappingNode):
        mark = root.start_mark
        raise ConfigError(
            [
                Problem(
                    filename,
                    mark.line + 1,
                    mark.column + 1,
                    "the file is not a mapping; expected keys such as 'name', 'services', 'edge'",
                )
            ]
        )
    return root


def _syntax_problem(filename: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A YAML syntax error where the user can fix it, naming the construct it broke."""
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or "invalid YAML"
    context = (exc.context or "").removeprefix("while scanning ").removeprefix("while parsing ")
    start = exc.context_mark
    if start is not None and context and "end of stream" in what:
        # An unclosed quote or bracket: the end of the file is no help, its start is.
        return Problem(
            filename,
            start.line + 1,
            start.column + 1,
            f"YAML syntax error: {context} starts here and is never closed; close it",
        )
    parsing = (exc.context or "").startswith("while parsing ")
    if parsing and start is not None and mark is not None and start.line != mark.line:
        what += f" in the {context.removeprefix('a ')} at line {start.line + 1}"
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(filename, line, column, f"YAML syntax error: {what}; fix the YAML syntax")


class _Walker:
    """Turns a composed node tree into data, filling the source map as it goes."""

    def __init__(self, source: SourceMap, env: os._Environ[str] | dict[str, str]) -> None:
        self.source = source
        self.env = env
        self.problems: list[Problem] = []

    def _mark(self, node: yaml.Node) -> Mark:
        return Mark(node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.source.values[path] = self._mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in self._merged_pairs(node):
            key = _SCALAR_CONSTRUCTOR.construct_object(key_node)
            if isinstance(key, (list, dict)) or key is None:
                mark = self._mark(key_node)
                self.problems.append(
                    Problem(
                        self.source.file,
                        mark.line,
                        mark.column,
                        "a mapping key must be a plain name; use a string",
                    )
                )
                continue
            key = str(key) if not isinstance(key, (str, int)) or isinstance(key, bool) else key
            child = (*path, key)
            if key in result:
                mark = self._mark(key_node)
                self.problems.append(
                    Problem(
                        self.source.file,
                        mark.line,
                        mark.column,
                        f"duplicate key '{key}'; each key may appear once in a mapping",
                    )
                )
                continue
            self.source.keys[child] = self._mark(key_node)
            result[key] = self.build(value_node, child)
        return result

    def _merged_pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Pairs of a mapping with YAML merge keys (``<<: *anchor``) expanded, own keys last."""
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in sources:
                    if isinstance(source, yaml.MappingNode):
                        merged.extend(self._merged_pairs(source))
            else:
                own.append((key_node, value_node))
        # Only scalar keys can be overridden; a list or mapping key is reported by _mapping.
        own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        return [
            (k, v)
            for k, v in merged
            if not (isinstance(k, yaml.ScalarNode) and k.value in own_keys)
        ] + own

    def _scalar(self, node: yaml.Node, path: PathKey) -> Any:
        value = _SCALAR_CONSTRUCTOR.construct_object(node)
        if isinstance(value, str) and "$" in value:
            return self._interpolate(value, node, path)
        return value

    def _interpolate(self, value: str, node: yaml.Node, path: PathKey) -> Any:
        missing: list[str] = []

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            found = self.env.get(name)
            if found is not None and (found != "" or default is None):
                return found
            if default is not None:
                return default
            missing.append(name)
            return ""

        result = _ENV_PATTERN.sub(substitute, value)
        if result != value:
            self.source.interpolated.add(path)
        for name in missing:
            mark = self._mark(node)
            self.problems.append(
                Problem(
                    self.source.file,
                    mark.line,
                    mark.column,
                    f"environment variable {name} is not set; export it, "
                    f"or write ${{{name}:-default}} to give a default",
                )
            )
        return result
