"""The dashboard server on loopback, before any supervisor runs: the token, the open OTLP
receiver, pages that show what arrived, the event stream, and actions that need the supervisor."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from homeport.dashboard.auth import COOKIE
from homeport.dashboard.server import DASHBOARD_FILE, Dashboard, start_dashboard


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    running = start_dashboard(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def browser(dashboard: Dashboard) -> Iterator[httpx.Client]:
    """A client that signed in through the printed URL (it holds the cookie)."""
    with httpx.Client(base_url=dashboard.base_url, timeout=10) as client:
        signed = client.get(dashboard.url, follow_redirects=True)
        assert (signed.status_code, signed.url.path) == (200, "/")
        yield client


def export_one_trace(endpoint: str) -> str:
    provider = TracerProvider(resource=Resource.create({"service.name": "jobs"}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=5)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /api/jobs") as root,
        tracer.start_as_current_span("INSERT jobs", attributes={"db.system": "postgresql"}),
    ):
        pass
    provider.shutdown()
    return f"{root.get_span_context().trace_id:032x}"


def test_the_token_is_traded_for_a_strict_http_only_cookie(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.base_url, timeout=10) as client:
        assert client.get("/").status_code == 401
        assert client.get("/traces?t=wrong").status_code == 401
        signed = client.get(f"/traces?service=jobs&t={dashboard.token}")
        assert signed.status_code == 303
        assert signed.headers["location"] == "/traces?service=jobs"
        cookie = signed.headers["set-cookie"]
        assert f"{COOKIE}={dashboard.token}" in cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        page = client.get("/traces?service=jobs")
        assert page.status_code == 200
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    info = dashboard.state_dir / DASHBOARD_FILE
    assert stat.S_IMODE(info.stat().st_mode) == 0o600


def test_services_post_otlp_without_the_token_and_the_trace_shows(
    dashboard: Dashboard, browser: httpx.Client
) -> None:
    trace_id = export_one_trace(dashboard.otlp_endpoint)
    listed = browser.get("/traces")
    assert f'data-trace="{trace_id}"' in listed.text
    found = browser.get(f"/traces/find?trace_id={trace_id.upper()}")
    assert (found.status_code, found.headers["location"]) == (303, f"/traces/{trace_id}")
    page = browser.get(f"/traces/{trace_id}")
    assert "POST /api/jobs" in page.text and "INSERT jobs" in page.text
    fragment = browser.get(f"/traces/{trace_id}", headers={"X-Fragment": "main"})
    assert fragment.text.startswith('<p class="summary">2 spans across jobs')
    assert "A trace id is 32" in browser.get("/traces/find?trace_id=nope").text


def test_without_a_supervisor_pages_say_so_and_actions_fail_clearly(
    browser: httpx.Client,
) -> None:
    assert "homeport up is not running" in browser.get("/").text
    forged = browser.post("/api/resources/jobs/restart")
    assert forged.status_code == 403
    asked = browser.post("/api/resources/jobs/restart", headers={"X-Requested-With": "homeport"})
    assert asked.status_code == 502
    assert "homeport up is not running" in asked.json()["error"]


def test_the_event_stream_announces_new_telemetry(
    dashboard: Dashboard, browser: httpx.Client
) -> None:
    with browser.stream("GET", "/events", timeout=10) as events:
        assert events.headers["content-type"] == "text/event-stream"
        lines = events.iter_lines()
        assert next(lines) == "retry: 2000"
        export_one_trace(dashboard.otlp_endpoint)
        for line in lines:
            if line.startswith('data: {"received": 2'):
                break


def test_stopping_forgets_the_dashboard_file(tmp_path: Path) -> None:
    running = start_dashboard(tmp_path)
    assert (tmp_path / DASHBOARD_FILE).exists()
    running.stop()
    assert not (tmp_path / DASHBOARD_FILE).exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.base_url, timeout=2)


def test_python_m_homeport_dashboard_serves_until_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "homeport.dashboard", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOMEPORT_DASHBOARD_TOKEN": "a-token-for-this-test"},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.endswith("/?t=a-token-for-this-test")
        base = url.split("/?t=")[0]
        trace_id = export_one_trace(base)
        with httpx.Client(base_url=base, timeout=10) as client:
            page = client.get(f"/traces/{trace_id}?t=a-token-for-this-test", follow_redirects=True)
            assert "INSERT jobs" in page.text
        assert (tmp_path / DASHBOARD_FILE).exists()
    finally:
        process.terminate()
        code = process.wait(15)
        if process.stdout is not None:
            process.stdout.close()
    assert code == 0
    assert not (tmp_path / DASHBOARD_FILE).exists()
