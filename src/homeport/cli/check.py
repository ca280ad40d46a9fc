"""``homeport check``: validate the platform file and run the doctor."""

from __future__ import annotations

import typer

from homeport.cli.common import (
    FileOption,
    JsonOption,
    console,
    err_console,
    load,
    print_json,
    reports_errors,
)
from homeport.doctor import diagnose


@reports_errors
def check(file: FileOption = None, as_json: JsonOption = False) -> None:
    """Validate the platform file and find the known foot-guns before they bite."""
    loaded = load(file)
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
        for item in findings:
            style = "red" if item.severity == "error" else "yellow"
            target = err_console if item.severity == "error" else console
            target.print(str(item), style=style, markup=False, soft_wrap=True)
        platform = loaded.platform
        warnings = len(findings) - len(errors)
        summary = (
            f"{loaded.path}: {len(platform.services)} services, {len(platform.hosts)} hosts, "
            f"{sum(len(z.records) for z in platform.edge.zones.values()) if platform.edge else 0} "
            f"DNS records; {len(errors)} errors, {warnings} warnings"
        )
        (err_console if errors else console).print(summary, markup=False, soft_wrap=True)
    if errors:
        raise typer.Exit(1)
