"""`homeport traces` reads the platform's telemetry store and shows traces as a user sees them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from homeport.dashboard.otlp import SpanRow
from homeport.dashboard.store import TelemetryStore

NOW = 1_900_000_000_000_000_000


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homeport", *args],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def make_platform(tmp_path: Path) -> None:
    (tmp_path / "homeport.yaml").write_text("name: demo\nservices:\n  web: {run: sleep 1}\n")
    store = TelemetryStore(tmp_path / ".homeport" / "telemetry.db")
    rows = [
        SpanRow(
            "ab" * 16,
            "01" * 8,
            "",
            "gateway",
            "GET /api/jobs",
            2,
            NOW,
            NOW + 9_000_000,
            0,
            "",
            {},
            {},
            [],
            [],
        ),
        SpanRow(
            "ab" * 16,
            "02" * 8,
            "01" * 8,
            "jobs",
            "SELECT jobs",
            3,
            NOW + 1_000_000,
            NOW + 3_000_000,
            0,
            "",
            {},
            {},
            [],
            [],
        ),
    ]
    store.add_spans(rows)
    store.close()


def test_traces_lists_and_shows_one_trace(tmp_path: Path) -> None:
    make_platform(tmp_path)
    listed = run("traces", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [summary] = json.loads(listed.stdout)
    assert (summary["trace_id"], summary["span_count"], summary["services"]) == (
        "ab" * 16,
        2,
        ["gateway", "jobs"],
    )
    shown = run("traces", "--trace-id", "AB" * 16, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "gateway GET /api/jobs" in shown.stdout
    assert "jobs SELECT jobs  +1.0 ms, 2.0 ms" in shown.stdout


def test_unknown_trace_and_missing_store_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "homeport.yaml").write_text("name: demo\n")
    missing = run("traces", cwd=tmp_path)
    assert missing.returncode == 1
    assert "no telemetry yet" in missing.stderr and "Traceback" not in missing.stderr
    make_platform(tmp_path)
    unknown = run("traces", "--trace-id", "00" * 16, cwd=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.count("\n") == 1 and "no trace" in unknown.stderr
