"""Validate loaded data against the models and turn every error into a located Problem."""

from __future__ import annotations

import difflib
import re
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
        # One mistake against a union (str | int | ...) yields one error per member, all at the
        # same place in the data: group them so the user reads one line per mistake.
        groups = _group_errors(exc.errors(), data)
        problems = {
            _to_problem(errors[0], data, source)
            if len(errors) == 1
            else _union_problem(place, errors, data, source)
            for place, errors in groups.items()
        }
        return None, sorted(problems)


Place = tuple[PathKey, bool]


def _group_errors(
    errors: list[ErrorDetails], data: dict[str, Any]
) -> dict[Place, list[ErrorDetails]]:
    """Errors grouped by the place in the data they are about, one group per user mistake.

    Dropped: the errors of union members that did not get as deep as another member did
    (``run: [a, [b]]`` is about ``run[1]``, not about ``run`` not being a string), and the
    missing key that an unknown key is a typo of (``nam:`` is reported once, as unknown).
    """
    groups: dict[Place, list[ErrorDetails]] = {}
    for error in errors:
        groups.setdefault(_error_place(error, data), []).append(error)
    ancestors = {path[:end] for path, _ in groups for end in range(len(path))}
    typos = {
        (*path[:-1], hint)
        for (path, _), found in groups.items()
        if found[0]["type"] == "extra_forbidden"
        for hint in [_suggestion(path, data)]
        if hint
    }
    return {
        place: found
        for place, found in groups.items()
        if not (place[0] in ancestors and all(len(e["loc"]) > len(place[0]) for e in found))
        and not (found[0]["type"] == "missing" and place[0] in typos)
    }


def _suggestion(path: PathKey, data: dict[str, Any]) -> str | None:
    """The known key closest to the unknown key at ``path``, if one is close."""
    hint = difflib.get_close_matches(str(path[-1]), _known_keys(path[:-1], data), n=1, cutoff=0.6)
    return hint[0] if hint else None


def _error_place(error: ErrorDetails, data: dict[str, Any]) -> tuple[PathKey, bool]:
    """The data path an error is about, and whether it is about a mapping key."""
    if error["type"] in ("missing", "extra_forbidden"):
        return (_data_path(error["loc"], data, keep_last=True), False)
    return (_data_path(error["loc"], data), "[key]" in error["loc"])


def _union_problem(
    place: tuple[PathKey, bool], errors: list[ErrorDetails], data: dict[str, Any], source: SourceMap
) -> Problem:
    path, _ = place
    expected: list[str] = []
    for error in errors:
        text = re.sub(r" or instance of \w+", "", error["msg"]).removeprefix("Value error, ")
        for prefix in ("Input should be ", "Input is not "):
            text = text.removeprefix(prefix)
        text = text.removeprefix("a valid ")
        if text not in expected:
            expected.append(text)
    alternatives = ", ".join(expected[:-1]) + f" or {expected[-1]}"
    got = _shown(_value_at(data, path))
    return source.problem(path, f"{_dotted(path)}: got {got}; expected {alternatives}")


def _to_problem(error: ErrorDetails, data: dict[str, Any], source: SourceMap) -> Problem:
    kind = error["type"]
    path, about_key = _error_place(error, data)
    if about_key:
        return source.problem(path, f"{_dotted(path[:-1])}: {_message(error, path[-1])}", key=True)
    if kind == "extra_forbidden":
        key = path[-1]
        known = _known_keys(path[:-1], data)
        hint = _suggestion(path, data)
        where = _where(path[:-1])
        expected = f"did you mean '{hint}'?" if hint else f"expected one of: {', '.join(known)}"
        return source.problem(path, f"unknown key '{key}'{where}; {expected}", key=True)
    if kind == "missing":
        where = _where(path[:-1])
        return source.problem(
            path[:-1], f"missing required key '{path[-1]}'{where}; add it", key=True
        )
    got = _value_at(data, path)
    return source.problem(path, f"{_dotted(path)}: {_message(error, got)}")


def _message(error: ErrorDetails, got: Any) -> str:
    text = re.sub(r" or instance of \w+", "", error["msg"])
    text = text.replace("a valid dictionary", "a mapping (key: value)")
    if text.startswith("Value error, "):
        return text.removeprefix("Value error, ")
    shown = _shown(got)
    if error["type"] == "string_pattern_mismatch":
        return f"{shown} is not a valid name; expected lowercase letters, digits, '-' or '_'"
    if text.startswith("Input should be "):
        return f"got {shown}; expected {text.removeprefix('Input should be ')}"
    return f"got {shown}; {text[0].lower()}{text[1:]}"


def _shown(got: Any) -> str:
    """A value as a message shows it: repr for scalars, its kind for containers."""
    if got is None:
        return "nothing"
    if isinstance(got, dict):
        return "a mapping"
    return "a list" if isinstance(got, list) else repr(got)


def _where(path: PathKey) -> str:
    """A short human phrase for where a path is, e.g. " in services.monolith"."""
    return f" in {_dotted(path)}" if path else ""


def _dotted(path: PathKey) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")


def _data_path(loc: tuple[int | str, ...], data: Any, *, keep_last: bool = False) -> PathKey:
    """Map pydantic's error location onto the path of loaded data it is about.

    Union and validator tags (``str``, ``function-after[...]``, ``[key]``) and fields that a
    shorthand created (``restart: always`` -> ``restart.policy``) are not in the data: the path
    stops at the deepest value the user wrote. ``keep_last`` keeps a final missing key.
    """
    path: PathKey = ()
    for index, part in enumerate(loc):
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_list or (isinstance(data, dict) and part in data):
            data = data[part]
        elif not (keep_last and index == len(loc) - 1):
            continue
        path = (*path, part)
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
