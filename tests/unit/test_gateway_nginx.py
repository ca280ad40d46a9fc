"""The nginx renderer: route order, quoting, realip and CORS rules, refused upstreams."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeport.gateway.errors import GatewayConfigError
from homeport.gateway.nginx import quote, render_nginx, variable_for_header
from homeport.model import load_platform

PLATFORM = """\
name: render
services:
  jobs: {run: x}
  monolith: {run: x}
gateway:
  routes:
    - {when: {header: x-mode, equals: 'micro "services";'}, path: /api/jobs, to: jobs}
    - {method: [post], host: Admin.Test, to: jobs, strip_prefix: true, path: /admin}
    - {to: monolith}
  cors: [https://jobs.elkhair.tech, "https://*.eelkhair.net"]
  trusted_proxies: [127.0.0.1/32, 192.168.1.150/32]
  limits: {max_body: 10MB, read_timeout: 1.5s}
"""
ENDPOINTS = {"jobs": "http://127.0.0.1:9001", "monolith": "http://127.0.0.1:9002"}


@pytest.fixture
def rendered(tmp_path: Path) -> str:
    path = tmp_path / "homeport.yaml"
    path.write_text(PLATFORM)
    return render_nginx(load_platform(path), ENDPOINTS, geo_url="http://127.0.0.1:9000")


def test_routes_become_maps_picked_in_file_order(rendered: str) -> None:
    assert "map $http_x_mode $hp_r0_0 {" in rendered
    assert '"~^micro\\\\ \\"services\\";$" 1;' in rendered
    assert '"~^/api/jobs(/|$)" 1;' in rendered
    assert "~^(POST)$ 1;" in rendered
    assert '"~*^admin\\\\.test$" 1;' in rendered
    assert "~^1 0;\n        ~^01 1;\n        ~^001 2;" in rendered


def test_upstreams_keepalive_and_streaming(rendered: str) -> None:
    assert "server 127.0.0.1:9001 max_fails=0;" in rendered
    assert "server 127.0.0.1:9000 max_fails=0;" in rendered  # geo stays with the Python gateway
    for directive in ("proxy_request_buffering off;", "proxy_buffering off;", "keepalive 64;"):
        assert directive in rendered
    assert "client_max_body_size 10000000;" in rendered
    assert "proxy_read_timeout 1500ms;" in rendered


def test_client_address_and_cors_rules(rendered: str) -> None:
    assert "set_real_ip_from 192.168.1.150/32;" in rendered
    assert "real_ip_recursive on;" in rendered
    assert "geo $realip_remote_addr $hp_peer_trusted {" in rendered
    assert '"~*^https://jobs\\\\.elkhair\\\\.tech$" $http_origin;' in rendered
    assert "add_header Vary Origin always;" in rendered


def test_strip_prefix_rewrites(rendered: str) -> None:
    assert 'if ($hp_route = 1) { rewrite "^/admin/?(.*)$" /$1 break; }' in rendered


def test_quote_escapes_backslashes_and_quotes() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    with pytest.raises(GatewayConfigError):
        quote("a\nb")


def test_header_names_nginx_cannot_match_are_refused() -> None:
    assert variable_for_header("X-Mode") == "$http_x_mode"
    with pytest.raises(GatewayConfigError, match="cannot be matched by nginx"):
        variable_for_header("x_mode")


def test_https_or_path_upstreams_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "homeport.yaml"
    path.write_text(PLATFORM)
    with pytest.raises(GatewayConfigError, match="plain http://host:port"):
        render_nginx(load_platform(path), {**ENDPOINTS, "jobs": "http://127.0.0.1:9001/base"})
