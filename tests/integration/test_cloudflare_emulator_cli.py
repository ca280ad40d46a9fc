"""``python -m tests.emulators.cloudflare``: run by hand from a state file, written back on exit."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]

TERSE_STATE = {
    "account": {"id": "0123456789abcdef0123456789abcdef"},
    "tokens": [{"value": "hand-token", "permissions": ["zone:read", "dns:read", "dns:write"]}],
    "zones": [
        {
            "name": "elkhair.tech",
            "plan": "pro",
            "settings": {"ssl": "strict"},
            "records": [{"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300}],
        }
    ],
    "tunnels": [{"id": "6ff42ae2-765d-4adf-8112-31c55c1551ef", "name": "homelab"}],
    "pages_projects": [{"name": "landing-backup", "domains": ["elkhair.tech"]}],
}


def _start(state_file: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.cloudflare", "--port", "0", "--plan", "free",
         "--state", str(state_file)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("Cloudflare emulator listening on "):
            return process, line.split()[-1]
    process.kill()
    process.wait(timeout=10)
    raise AssertionError(
        f"the emulator did not start: {process.stderr.read() if process.stderr else ''}"
    )


def _stop(process: subprocess.Popen[str]) -> str:
    os.kill(process.pid, signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    return out


def test_a_terse_state_file_is_served_and_written_back_whole_on_sigterm(tmp_path: Path) -> None:
    state_file = tmp_path / "cf-state.json"
    state_file.write_text(json.dumps(TERSE_STATE))
    process, base_url = _start(state_file)
    try:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/client/v4")
        auth = {"Authorization": "Bearer hand-token"}
        zones = httpx.get(f"{base_url}/zones", headers=auth, timeout=10).json()["result"]
        assert [(zone["name"], zone["plan"]["legacy_id"]) for zone in zones] == [
            ("elkhair.tech", "pro")
        ]
        created = httpx.post(
            f"{base_url}/zones/{zones[0]['id']}/dns_records", headers=auth, timeout=10,
            json={"type": "TXT", "name": "@", "content": "v=spf1 -all", "ttl": 1, "tags": ["a:b"]},
        )  # fmt: skip
        assert created.status_code == 200
    finally:
        out = _stop(process)
    assert f"state written to {state_file}" in out
    saved = json.loads(state_file.read_text())
    [zone] = saved["zones"]
    assert sorted((r["type"], r["name"]) for r in zone["records"]) == [
        ("A", "www.elkhair.tech"), ("TXT", "elkhair.tech"),
    ]  # fmt: skip
    assert zone["settings"]["ssl"]["value"] == "strict"
    assert saved["tunnels"][0]["status"] == "inactive"
    assert saved["pages_projects"][0]["domains"][0]["status"] == "active"

    again, base_url = _start(state_file)
    try:
        auth = {"Authorization": "Bearer hand-token"}
        records = httpx.get(
            f"{base_url}/zones/{zone['id']}/dns_records", headers=auth, timeout=10
        ).json()["result"]
    finally:
        _stop(again)
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in zone["records"])


def test_a_broken_state_file_is_one_clear_line(tmp_path: Path) -> None:
    state_file = tmp_path / "broken.json"
    state_file.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "tests.emulators.cloudflare", "--state", str(state_file)],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {state_file} is not valid JSON")
    assert "Traceback" not in result.stderr
