"""`homeport check`, `homeport schema` and `homeport --version` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from homeport.model.loader import load_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "jobboard"


def homeport(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run the real command line in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "homeport", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def test_version() -> None:
    result = homeport("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("homeport ")


def test_the_example_passes_from_its_directory_without_f() -> None:
    result = homeport("check", cwd=EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("homeport.yaml: 9 services, 7 hosts, 15 DNS records; 0 errors")
    assert result.stderr == ""


def test_json_report_of_the_example() -> None:
    result = homeport("check", "-f", "examples/jobboard/homeport.yaml", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["file"] == "examples/jobboard/homeport.yaml"
    assert all(f["severity"] == "warning" for f in report["findings"])
    for item in report["findings"]:
        assert set(item) == {"file", "line", "column", "severity", "id", "message", "fix"}


def test_json_report_of_doctor_errors_and_warnings(tmp_path: Path) -> None:
    (tmp_path / "homeport.yaml").write_text(
        "name: demo\n"
        "environments:\n"
        "  dev: {host: a, image_tag: latest}\n"
        "hosts:\n"
        "  a: {address: 10.0.0.1, roles: [app]}\n"
        "registry: {url: 'http://r:5000', delete_enabled: true}\n"
    )
    result = homeport("check", "--json", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    found = [(f["line"], f["column"], f["severity"], f["id"]) for f in report["findings"]]
    assert found == [
        (3, 29, "error", "image-latest"),
        (6, 1, "warning", "registry-gc-missing"),
    ]


def test_json_report_of_a_file_that_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "homeport.yaml").write_text("name: demo\nservices:\n  a: {run: x, wait_fro: []}\n")
    result = homeport("check", "--json", cwd=tmp_path)
    assert result.returncode == 1
    (problem,) = json.loads(result.stdout)["findings"]
    assert (problem["line"], problem["column"], problem["id"]) == (3, 15, "config")
    assert "did you mean 'wait_for'?" in problem["message"]


def test_warnings_only_exit_zero(tmp_path: Path) -> None:
    (tmp_path / "homeport.yaml").write_text("name: demo\nregistry: {url: 'http://r:5000'}\n")
    result = homeport("check", cwd=tmp_path)
    assert result.returncode == 0
    assert "warning [registry-deletes-disabled]" in result.stdout
    assert "0 errors, 2 warnings" in result.stdout


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(
            lambda d: None,
            "nowhere.yaml:1:1: file not found; pass the platform file with -f FILE",
            id="missing file",
        ),
        pytest.param(
            lambda d: (d / "nowhere.yaml").mkdir(),
            "nowhere.yaml:1:1: no homeport.yaml in this directory; pass the platform file",
            id="directory without homeport.yaml",
        ),
        pytest.param(
            lambda d: (d / "nowhere.yaml").write_text(""),
            "nowhere.yaml:1:1: the file is empty; expected a mapping with at least 'name'",
            id="empty file",
        ),
        pytest.param(
            lambda d: (d / "nowhere.yaml").write_text("just some text\n"),
            "nowhere.yaml:1:1: the file is not a mapping; expected keys such as 'name'",
            id="not a mapping",
        ),
    ],
)
def test_unusable_files_get_one_line(tmp_path: Path, setup: Any, expected: str) -> None:
    setup(tmp_path)
    result = homeport("check", "-f", "nowhere.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(expected)
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The JSON Schema that `homeport schema` prints."""
    result = homeport("schema")
    assert result.returncode == 0, result.stderr
    printed: dict[str, Any] = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(printed)
    return printed


def example_data() -> dict[str, Any]:
    """The example platform as the loader reads it, ${ENV} defaults applied."""
    text = (EXAMPLE / "homeport.yaml").read_text()
    return load_text(text, "homeport.yaml", env={}).data


def test_schema_validates_the_example(schema: dict[str, Any]) -> None:
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(example_data()))
    assert errors == []


@pytest.mark.parametrize(
    "mistake",
    [
        pytest.param(lambda d: d["services"]["monolith"].update(wait_fro=["seed"]), id="typo"),
        pytest.param(lambda d: d["services"]["monolith"].update(health=5), id="wrong type"),
        pytest.param(lambda d: d["registry"].update(disk_alert=True), id="not a percentage"),
        pytest.param(lambda d: d["edge"].pop("tunnel"), id="missing required key"),
    ],
)
def test_schema_rejects_a_broken_file(schema: dict[str, Any], mistake: Any) -> None:
    data = example_data()
    mistake(data)
    assert not jsonschema.Draft202012Validator(schema).is_valid(data)
