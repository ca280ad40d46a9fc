"""What only the Python gateway does: Connection-named headers, minted traceparent, metrics,
OTLP spans with the visitor's city, and a GeoIP database replaced under a running gateway."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from tests.support.gateway import (
    REPO,
    Plane,
    Upstreams,
    raw_request,
    start_python_gateway,
    write_platform,
)

from homeport.gateway.geo import bundled_database

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Collector:
    """A real OTLP/HTTP receiver on loopback that keeps the spans it is sent."""

    def __init__(self) -> None:
        self.spans: list[dict[str, object]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            collector.spans.append(_span_dict(span))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _span_dict(span: object) -> dict[str, object]:
    attributes = {}
    for item in span.attributes:  # type: ignore[attr-defined]
        value = item.value
        attributes[item.key] = (
            value.string_value if value.HasField("string_value") else value.int_value
        )
    return {
        "name": span.name,  # type: ignore[attr-defined]
        "kind": span.kind,  # type: ignore[attr-defined]
        "trace_id": span.trace_id.hex(),  # type: ignore[attr-defined]
        "span_id": span.span_id.hex(),  # type: ignore[attr-defined]
        "attributes": attributes,
    }


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    receiver = Collector()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("gateway-python")
    path = write_platform(directory)
    shutil.copyfile(bundled_database(), directory / "geo.mmdb")
    path.write_text(path.read_text() + "  geo: {database: geo.mmdb}\n")
    return path


@pytest.fixture(scope="module")
def gateway(platform: Path, upstreams: Upstreams, collector: Collector) -> Iterator[Plane]:
    environment = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_SERVICE_NAME": "gateway",
    }
    plane = start_python_gateway(platform, upstreams, environment)
    yield plane
    plane.stop()


@pytest.fixture(scope="module")
def client(gateway: Plane) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        yield http


def test_headers_named_in_connection_are_dropped_both_ways(gateway: Plane) -> None:
    request = (
        b"GET /api/echo HTTP/1.1\r\nHost: gw\r\nConnection: close, X-Secret, X-Forwarded-Host\r\n"
        b"X-Secret: 1\r\nX-Forwarded-Host: front.test\r\n\r\n"
    )
    received = json.loads(raw_request(gateway.url, request).body)["headers"]
    assert "x-secret" not in received
    assert received["x-forwarded-host"] == "front.test"
    response = raw_request(
        gateway.url, b"GET /api/hop HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
    )
    assert response.status == 200
    assert response.header("x-upstream-secret") is None


def test_a_traceparent_is_minted_when_the_caller_sends_none(client: httpx.Client) -> None:
    received = client.get("/api/echo").json()["headers"]
    version, trace_id, span_id, flags = received["traceparent"].split("-")
    assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)
    assert int(flags, 16) & 1  # sampled


def test_one_server_span_per_request_with_route_status_and_city(
    client: httpx.Client, collector: Collector
) -> None:
    response = client.get(
        "/api/jobs/7",
        headers={
            "x-mode": "microservices",
            "traceparent": CALLER,
            "CF-Connecting-IP": "81.2.69.160",
        },
    )
    assert response.headers["x-served-by"] == "jobs"
    sent_upstream = response.json()["headers"]["traceparent"]
    deadline = time.monotonic() + 10
    mine: list[dict[str, object]] = []
    while time.monotonic() < deadline and not mine:
        mine = [s for s in collector.spans if s["trace_id"] == "0af7651916cd43dd8448eb211c80319c"]
        time.sleep(0.05)
    assert len(mine) == 1
    span = mine[0]
    assert span["kind"] == 2  # SERVER
    assert sent_upstream.split("-")[2] == span["span_id"]
    assert span["attributes"] == {
        "http.request.method": "GET",
        "url.path": "/api/jobs/7",
        "http.route": "jobs",
        "homeport.upstream": "jobs",
        "client.address": "81.2.69.160",
        "geo.country.iso_code": "GB",
        "geo.locality.name": "Willesden",
        "http.response.status_code": 200,
    }


def test_metrics_count_requests_and_upstream_errors(client: httpx.Client) -> None:
    client.get("/api/echo")
    assert client.get("/api/down").status_code == 502
    text = client.get("/metrics").text
    assert 'homeport_gateway_requests_total{route="monolith",status="200"}' in text
    assert 'homeport_gateway_upstream_errors_total{kind="refused",route="down"} 1.0' in text
    assert 'homeport_gateway_request_duration_seconds_bucket{le="0.005",route="monolith"}' in text


def test_health_says_when_geo_lookups_go_through_the_index(client: httpx.Client) -> None:
    deadline = time.monotonic() + 120  # a first run on a fresh machine builds the index
    status = ""
    while time.monotonic() < deadline:
        status = client.get("/healthz").json()["geo_index"]
        if not status.startswith("building"):
            break
        time.sleep(0.5)
    assert status == "ready: 2,217,824 IPv4 networks"


def test_geo_endpoint_uses_the_visitors_address(client: httpx.Client) -> None:
    mine = client.get("/api/public/geo", headers={"X-Forwarded-For": "81.2.69.160"}).json()
    assert mine["ip"] == "81.2.69.160"
    assert mine["country"] == "GB"
    assert client.get("/api/public/geo", params={"ip": "bogus"}).status_code == 400
    local = client.get("/api/public/geo").json()
    assert local == {**local, "ip": "127.0.0.1", "found": False, "city": None}


def _test_database(path: Path) -> None:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    record = {
        "country": {"iso_code": "HP", "names": {"en": "Homeportland"}},
        "city": {"names": {"en": "Testville"}},
        "location": {"latitude": 1.5, "longitude": 2.5},
    }
    writer.insert_network(IPSet(["81.2.69.0/24"]), record)
    writer.to_db_file(str(path))


def test_geo_update_is_picked_up_without_a_restart(
    client: httpx.Client, platform: Path, tmp_path: Path
) -> None:
    homeport = [sys.executable, "-m", "homeport", "gateway", "geo-update"]
    bogus = tmp_path / "bogus.mmdb"
    bogus.write_bytes(b"nope")
    refused = subprocess.run(
        [*homeport, str(bogus), "-f", str(platform)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert refused.returncode == 1
    assert "is not a readable MaxMind database" in refused.stderr
    assert "Traceback" not in refused.stderr

    fresh = tmp_path / "fresh.mmdb"
    _test_database(fresh)
    done = subprocess.run(
        [*homeport, str(fresh), "-f", str(platform)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"at {platform.parent / 'geo.mmdb'}" in done.stdout
    deadline = time.monotonic() + 5
    city = None
    while time.monotonic() < deadline and city != "Testville":
        city = client.get("/api/public/geo", params={"ip": "81.2.69.160"}).json()["city"]
        time.sleep(0.1)
    assert city == "Testville"
