"""Small value types shared by the platform file's sections: durations, sizes, names."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_duration(value: Any) -> Any:
    """``1.5``, ``"500ms"``, ``"2s"``, ``"1m"``, ``"1h"`` -> seconds as float."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 500ms, 2s or 1m")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    raise ValueError(f"'{value}' is not a duration; expected e.g. 500ms, 2s, 1m or 1h")


def parse_size(value: Any) -> Any:
    """``1048576``, ``"10MB"``, ``"1MiB"``, ``"512k"`` -> bytes as int."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 10MB or 512KiB")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            unit = (match.group(2) or "").lower()
            binary = "i" in unit
            letter = unit[:1] if unit not in ("", "b") else ""
            factor = (
                1024 ** "kmgt".index(letter) * 1024 if binary and letter else _SIZE_UNITS[letter]
            )
            return int(float(match.group(1)) * factor)
    raise ValueError(f"'{value}' is not a size; expected e.g. 10MB, 512KiB or a number of bytes")


def parse_percent(value: Any) -> Any:
    """``85``, ``"85%"``, ``0.85`` -> a percentage between 0 and 100."""
    if isinstance(value, bool):
        raise ValueError("expected a percentage such as 85%")
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"'{value}' is not a percentage; expected e.g. 85%") from None
    if not 0 <= number <= 100:
        raise ValueError(f"{number}% is out of range; expected a value between 0% and 100%")
    return number


def one_or_many(value: Any) -> Any:
    """Accept a single item where a list is expected."""
    return [value] if isinstance(value, (str, dict)) else value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
Percent = Annotated[float, BeforeValidator(parse_percent)]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$", max_length=63)]
Port = Annotated[int, Field(ge=1, le=65535)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)
