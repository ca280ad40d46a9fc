"""The client's connections to a real registry: kept alive across a scan, re-opened when the
registry restarts under them, and over TLS verified against the CA the user gives."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.binaries import require_binary
from tests.support.registry import (
    RegistryProcess,
    http_push,
    make_image,
    random_layer,
    registry_with,
    start_registry,
)

from homeport.registry.cache import ManifestCache
from homeport.registry.client import RegistryClient
from homeport.registry.errors import RegistryUnreachable
from homeport.registry.scan import read_inventory

TAGS = 40
ESTABLISHED, TIME_WAIT = "01", "06"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    running = start_registry(tmp_path_factory.mktemp("registry-wire"))
    try:
        base = random_layer(7, 2_000)
        start = datetime.now(UTC) - timedelta(days=1)
        with httpx.Client(base_url=running.url, timeout=10) as client:
            for i in range(TAGS):
                image = make_image([base], start + timedelta(minutes=i), label=f"w{i}")
                http_push(client, "wire/app", f"dev-{i:02d}", image)
        yield running
    finally:
        running.stop()


def client_sockets(port: int) -> dict[str, int]:
    """Sockets on this machine whose remote end is ``port``, counted by TCP state."""
    states: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                states[fields[3]] = states.get(fields[3], 0) + 1
    return states


def test_a_scan_reuses_one_connection_per_worker(registry: RegistryProcess) -> None:
    before = client_sockets(registry.port).get(TIME_WAIT, 0)
    with RegistryClient(registry.url) as client:
        inventory = read_inventory(client, cache=ManifestCache(), workers=4)
        open_now = client_sockets(registry.port)
        sent = sum(client.requests.values())
    assert [len(r.tags) for r in inventory.repositories] == [TAGS]
    assert sent == 2 + 2 * TAGS  # catalog, tags, then a manifest and a config per image
    assert open_now.get(ESTABLISHED, 0) <= 4
    # none was closed and re-opened during the scan (a closing client leaves TIME_WAIT)
    assert open_now.get(TIME_WAIT, 0) == before


def test_a_name_with_a_space_is_sent_escaped_and_answered(registry: RegistryProcess) -> None:
    with RegistryClient(registry.url) as client:
        assert client.tags("no such/repository") == []
        assert client.get_manifest("wire/app", "dev 00") is None


def test_connections_closed_by_a_restart_are_not_reused(registry: RegistryProcess) -> None:
    with RegistryClient(registry.url) as client:
        assert len(client.tags("wire/app")) == TAGS
        registry.restart(readonly=False)
        assert client.writable()  # a POST, which is never sent twice, gets a fresh connection
        registry.restart(readonly=False)
        assert len(client.tags("wire/app")) == TAGS
        assert client.requests["transport_retry"] == 0


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    openssl = require_binary("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    output = ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1"]
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [openssl, *request, *output, *subject],
        check=True,
        capture_output=True,
        timeout=30,
    )

    def with_tls(config: dict[str, Any]) -> None:
        config["http"]["tls"] = {"certificate": str(cert), "key": str(key)}

    with registry_with(tmp_path, with_tls) as port:
        yield f"https://127.0.0.1:{port}", cert


def test_tls_is_verified_against_the_given_ca(tls_registry: tuple[str, Path]) -> None:
    url, ca = tls_registry
    with RegistryClient(url, verify=str(ca)) as client:
        client.ping()
        assert client.tags("nothing-here") == []
    with RegistryClient(url) as client, pytest.raises(RegistryUnreachable) as caught:
        client.ping()
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert "TLS options" in str(caught.value)
    with RegistryClient(url, verify=False) as client:
        client.ping()
