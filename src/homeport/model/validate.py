"""Validate loaded data against the models and turn every error into a located Problem."""

from __future__ import annotations

import difflib
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from homeport.errors import Problem
from homeport.model.loader import PathKey, SourceMap
from homeport.model.platform import Platform


def validate(data: dict[str, Any], source: SourceMap) -> tuple[Platform | None, list[Problem]]:
    """The Platform model of ``data``, or None with one Problem per mistake."""
    try:
        return Platform.model_validate(data), []
    except ValidationError as exc:
        problems = {_to_problem(error, data, source) for error in exc.errors()}
        return None, sorted(problems)


def _to_problem(error: ErrorDetails, data: dict[str, Any], source: SourceMap) -> Problem:
    path = _data_path(error["loc"], source)
    kind = error["type"]
    if kind == "extra_forbidden":
        key = path[-1]
        known = _known_keys(path[:-1], data)
        hint = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        where = _where(path[:-1])
        expected = f"did you mean '{hint[0]}'?" if hint else f"expected one of: {', '.join(known)}"
        return source.problem(path, f"unknown key '{key}'{where}; {expected}", key=True)
    if kind == "missing":
        where = _where(path[:-1])
        return source.problem(
            path[:-1], f"missing required key '{path[-1]}'{where}; add it", key=True
        )
    got = _value_at(data, path)
    return source.problem(path, f"{_dotted(path)}: {_message(error, got)}")


def _message(error: ErrorDetails, got: Any) -> str:
    text = error["msg"]
    if text.startswith("Value error, "):
        return text.removeprefix("Value error, ")
    shown = repr(got) if not isinstance(got, (dict, list)) else f"a {type(got).__name__}"
    if got is None:
        shown = "nothing"
    if error["type"] == "string_pattern_mismatch":
        return f"{shown} is not a valid name; expected lowercase letters, digits, '-' or '_'"
    if text.startswith("Input should be "):
        return f"got {shown}; expected {text.removeprefix('Input should be ')}"
    return f"got {shown}; {text[0].lower()}{text[1:]}"


def _where(path: PathKey) -> str:
    """A short human phrase for where a path is, e.g. " in services.monolith"."""
    return f" in {_dotted(path)}" if path else ""


def _dotted(path: PathKey) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")


def _data_path(loc: tuple[int | str, ...], source: SourceMap) -> PathKey:
    """Map pydantic's error location onto a data path, dropping union and validator tags."""
    path: PathKey = ()
    for index, part in enumerate(loc):
        candidate = (*path, part)
        if candidate in source.values or candidate in source.keys or index == len(loc) - 1:
            path = candidate
    return path


def _value_at(data: Any, path: PathKey) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _known_keys(path: PathKey, data: dict[str, Any]) -> list[str]:
    """The field names the model accepts at ``path``."""
    annotation: Any = Platform
    for part in path:
        annotation = _step(annotation, part)
    model = _as_model(annotation)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation one step below ``annotation`` along a field, dict key or list index."""
    model = _as_model(annotation)
    if model is not None:
        info = model.model_fields.get(str(part))
        return info.annotation if info else None
    for candidate in _alternatives(annotation):
        origin = get_origin(candidate)
        if origin is dict:
            return get_args(candidate)[1]
        if origin is list and isinstance(part, int):
            return get_args(candidate)[0]
    return None


def _alternatives(annotation: Any) -> list[Any]:
    """The members of a union (or the annotation itself), with Annotated unwrapped."""
    if get_origin(annotation) is Annotated:
        return _alternatives(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return [alt for arg in get_args(annotation) for alt in _alternatives(arg)]
    return [annotation]


def _as_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in _alternatives(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
