"""The AI worker's keyword rules (examples/jobboard/services/common/tags.py)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest
from tests.support.example import EXAMPLE


def _tags_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "jobboard_tags", EXAMPLE / "services" / "common" / "tags.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tags_for = _tags_module().tags_for


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [
        ("Senior Python Engineer", "Kubernetes, remote", ["devops", "python", "remote", "senior"]),
        ("Frontend Developer", "React and TypeScript", ["frontend", "javascript"]),
        ("Go developer", "", ["go"]),
        ("Product manager", "Let's go to market together", ["go"]),
        ("Golfing instructor", "Good with people", []),
        ("ASP.NET developer", "C# and SQL", ["data", "dotnet"]),
        ("Engineer", "Node.js services", ["javascript"]),
        ("ML engineer", "machine learning with PyTorch", ["ml"]),
        ("Email marketer", "Mailchimp; no AI needed", ["ml"]),
        ("Maintainer", "Raise the bar", []),
        ("Java developer", "JavaScript not needed", ["java", "javascript"]),
    ],
)
def test_tags_come_from_whole_keywords_in_the_title_or_description(
    title: str, description: str, expected: list[str]
) -> None:
    assert tags_for(title, description) == expected
