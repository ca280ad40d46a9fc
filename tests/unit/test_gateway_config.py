"""Compiling the gateway: targets resolved through HOMEPORT_ENDPOINTS and --upstream."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from homeport.gateway import geo
from homeport.gateway.config import compile_gateway, parse_endpoints, parse_upstream_options
from homeport.gateway.errors import GatewayConfigError, GeoDatabaseError
from homeport.gateway.pending import PendingUpstreams
from homeport.model.platform import Gateway

GATEWAY = Gateway.model_validate(
    {"routes": [{"path": "/api", "to": "jobs"}, {"to": "http://127.0.0.1:7000/"}]}
)


def test_endpoints_json_gives_service_urls() -> None:
    text = '{"jobs": {"host": "127.0.0.1", "port": 5001, "url": "http://127.0.0.1:5001"},'
    text += ' "redis": {"host": "127.0.0.1", "port": 6379}}'
    assert parse_endpoints(text) == {
        "jobs": "http://127.0.0.1:5001",
        "redis": "http://127.0.0.1:6379",
    }
    assert parse_endpoints(None) == {}
    with pytest.raises(GatewayConfigError, match="HOMEPORT_ENDPOINTS is not JSON"):
        parse_endpoints("{")


def test_upstream_options() -> None:
    assert parse_upstream_options(["jobs=http://127.0.0.1:1"]) == {"jobs": "http://127.0.0.1:1"}
    with pytest.raises(GatewayConfigError, match="is not NAME=URL"):
        parse_upstream_options(["jobs"])


def test_targets_resolve_to_urls(tmp_path: Path) -> None:
    config = compile_gateway(
        GATEWAY, frozenset({"jobs"}), {"jobs": "http://127.0.0.1:5001"}, tmp_path, tmp_path
    )
    assert {k: str(v) for k, v in config.upstreams.items()} == {
        "jobs": "http://127.0.0.1:5001",
        "http://127.0.0.1:7000/": "http://127.0.0.1:7000",
    }


def test_a_service_that_is_not_running_is_named(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="route target 'jobs' has no address"):
        compile_gateway(GATEWAY, frozenset({"jobs"}), {}, tmp_path, tmp_path)


def test_no_routes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match=r"gateway\.routes is empty"):
        compile_gateway(Gateway(), frozenset(), {}, tmp_path, tmp_path)


def test_refuses_to_run_without_the_c_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_extension(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "maxminddb.extension":
            raise ImportError("no C extension")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_extension)
    with pytest.raises(GeoDatabaseError, match="C extension is not installed"):
        geo.GeoDatabase(geo.bundled_database())


def test_pending_services_are_allowed_only_when_asked(tmp_path: Path) -> None:
    config = compile_gateway(
        GATEWAY, frozenset({"jobs"}), {}, tmp_path, tmp_path, allow_pending=True
    )
    assert config.pending == ["jobs"]
    assert config.endpoints_file == tmp_path / "endpoints.json"


def test_pending_service_found_in_endpoints_json_at_most_once_a_second(tmp_path: Path) -> None:
    now = [0.0]
    pending = PendingUpstreams(tmp_path / "endpoints.json", clock=lambda: now[0])
    assert pending.resolve("landing") is None
    (tmp_path / "endpoints.json").write_text(
        '{"services": {"landing": {"host": "127.0.0.1", "port": 5005}}}'
    )
    now[0] = 0.5
    assert pending.resolve("landing") is None  # looked less than a second ago
    now[0] = 1.6
    assert str(pending.resolve("landing")) == "http://127.0.0.1:5005"
