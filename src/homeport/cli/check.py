"""``homeport check``: validate the platform file and run the doctor."""

from __future__ import annotations

from typing import Any

import typer

from homeport.cli.common import (
    FileOption,
    JsonOption,
    console,
    load,
    print_json,
    reports_errors,
)
from homeport.doctor import Finding, diagnose
from homeport.errors import ConfigError
from homeport.model import LoadedPlatform


@reports_errors
def check(file: FileOption = None, as_json: JsonOption = False) -> None:
    """Validate the platform file and find the known foot-guns before they bite."""
    try:
        loaded = load(file)
    except ConfigError as exc:
        if not as_json:
            raise
        print_json(_invalid_file_report(exc))
        raise typer.Exit(1) from None
    findings = diagnose(loaded)
    errors = [f for f in findings if f.severity == "error"]
    if as_json:
        print_json(
            {
                "file": str(loaded.path),
                "ok": not errors,
                "findings": [f.as_dict() for f in findings],
            }
        )
    else:
        # Findings go to stdout in file order, as linters print them; the exit code tells.
        for item in findings:
            style = "red" if item.severity == "error" else "yellow"
            console.print(str(item), style=style, markup=False, soft_wrap=True)
        console.print(_summary(loaded, findings), markup=False, soft_wrap=True)
    if errors:
        raise typer.Exit(1)


def _summary(loaded: LoadedPlatform, findings: list[Finding]) -> str:
    platform = loaded.platform
    errors = sum(1 for f in findings if f.severity == "error")
    records = sum(len(z.records) for z in platform.edge.zones.values()) if platform.edge else 0
    return (
        f"{loaded.path}: {len(platform.services)} services, {len(platform.hosts)} hosts, "
        f"{records} DNS records; {errors} errors, {len(findings) - errors} warnings"
    )


def _invalid_file_report(error: ConfigError) -> dict[str, Any]:
    """A file that does not load, in the shape of the findings report (id ``config``)."""
    return {
        "file": error.problems[0].file if error.problems else None,
        "ok": False,
        "findings": [
            {
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "severity": "error",
                "id": "config",
                "message": p.message,
                "fix": "",
            }
            for p in error.problems
        ],
    }
