"""The gateway as an nginx configuration: the same routes, CORS and client-address rules.

Each route condition becomes a ``map`` to 0/1 (``map $http_x_mode``, ``map $uri``...); a final
map picks the first route whose conditions all hold, in file order. The client's address comes from
the realip module (X-Forwarded-For walked right to left over ``set_real_ip_from``), with
CF-Connecting-IP believed only from a trusted peer (``geo $realip_remote_addr``). Geo lookups stay
a route to the Python gateway's ``/api/public/geo``.

What nginx cannot do here: drop request headers that the client names in ``Connection`` (nginx
forwards them), mint a traceparent (it forwards the caller's), and a total request timeout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from yarl import URL

from homeport.gateway.config import GatewayConfig, compile_gateway
from homeport.gateway.cors import ALLOWED_METHODS, origin_pattern
from homeport.gateway.errors import GatewayConfigError
from homeport.gateway.routes import CompiledRoute
from homeport.model import LoadedPlatform
from homeport.model.platform import Gateway, HeaderMatch

HOP_BY_HOP_REQUEST = (
    "Keep-Alive",
    "Proxy-Connection",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "TE",
    "Trailer",
    "Upgrade",
)
CORS_FROM_UPSTREAM = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Expose-Headers",
)


def quote(text: str) -> str:
    """An nginx double-quoted string whose parsed value is exactly ``text``."""
    if any(c in text for c in "\r\n\0"):
        raise GatewayConfigError(f"value {text!r} has a line break; nginx cannot carry it")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def variable_for_header(name: str) -> str:
    """The nginx variable of a request header: ``X-Mode`` -> ``$http_x_mode``."""
    if not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise GatewayConfigError(f"header '{name}' cannot be matched by nginx (letters, digits, -)")
    return "$http_" + name.lower().replace("-", "_")


def header_regex(match: HeaderMatch) -> str | None:
    """The case-sensitive regex for a header test, or None for ``exists``."""
    if match.equals is not None:
        return "^" + re.escape(match.equals) + "$"
    if match.prefix is not None:
        return "^" + re.escape(match.prefix)
    return match.regex


def condition_maps(route: CompiledRoute, spec: Gateway) -> Iterator[tuple[str, list[str]]]:
    """(source, entries) of each 0/1 map that one route's conditions need."""
    written = spec.routes[route.index]
    for match in written.when:
        source = variable_for_header(match.header)
        regex = header_regex(match)
        if regex is not None:
            yield source, [f"{quote('~' + regex)} 1;", "default 0;"]
        elif match.exists is False:
            yield source, ['"" 1;', "default 0;"]
        else:
            yield source, ['"" 0;', "default 1;"]
    if route.path is not None:
        prefix = route.path.rstrip("/")
        regex = "^" + re.escape(prefix) + "(/|$)" if prefix else "^/"
        yield "$uri", [f"{quote('~' + regex)} 1;", "default 0;"]
    if route.methods:
        alternatives = "|".join(sorted(re.escape(m) for m in route.methods))
        yield "$request_method", [f"~^({alternatives})$ 1;", "default 0;"]
    if route.host is not None:
        yield "$host", [f"{quote('~*^' + re.escape(route.host) + '$')} 1;", "default 0;"]


def block(head: str, lines: list[str], indent: str = "    ") -> list[str]:
    """An nginx block ``head { lines }``."""
    return [f"{head} {{", *(indent + line for line in lines), "}"]


def upstream_names(config: GatewayConfig) -> dict[str, str]:
    """The nginx upstream block's name for each route target."""
    names: dict[str, str] = {}
    for route in config.routes.routes:
        label = re.sub(r"[^a-z0-9_]", "_", route.upstream_name.lower())
        names.setdefault(route.target, f"hp_{label}")
    return names


def server_address(url: URL, what: str) -> str:
    """``host:port`` of an upstream URL that nginx can proxy to."""
    if url.path not in ("", "/") or url.scheme != "http":
        raise GatewayConfigError(
            f"{what} is {url}; the nginx data plane proxies to plain http://host:port upstreams"
        )
    return f"{url.host}:{url.port}"


def route_selection(config: GatewayConfig, spec: Gateway) -> list[str]:
    """Maps from conditions to ``$hp_route``, the index of the first matching route."""
    out: list[str] = []
    flags: list[str] = []
    for route in config.routes.routes:
        variables = []
        for number, (source, entries) in enumerate(condition_maps(route, spec)):
            variable = f"hp_r{route.index}_{number}"
            out += block(f"map {source} ${variable}", entries)
            variables.append("${" + variable + "}")
        if len(variables) <= 1:
            flags.append(variables[0] if variables else "1")
            continue
        flag = f"hp_m{route.index}"
        joined = "".join(variables)
        out += block(f'map "{joined}" ${flag}', [f'"{"1" * len(variables)}" 1;', "default 0;"])
        flags.append("${" + flag + "}")
    choices = [f"~^{'0' * i}1 {i};" for i in range(len(flags))]
    out += block(f'map "{"".join(flags)}" $hp_route', [*choices, 'default "";'])
    return out


def per_route_maps(config: GatewayConfig, names: Mapping[str, str]) -> list[str]:
    """Maps from ``$hp_route`` to its upstream and its public name."""
    targets = [f"{r.index} http://{names[r.target]};" for r in config.routes.routes]
    labels = [f"{r.index} {quote(r.name)};" for r in config.routes.routes]
    return [
        *block("map $hp_route $hp_upstream", [*targets, 'default "";']),
        *block("map $hp_route $hp_route_name", [*labels, 'default "";']),
    ]


def client_address_rules(config: GatewayConfig) -> list[str]:
    """realip over the trusted proxies, and the variables the forwarded headers use."""
    trusted = [str(n) for n in config.clients.trusted]
    lines = [f"set_real_ip_from {cidr};" for cidr in trusted]
    lines += ["real_ip_header X-Forwarded-For;", "real_ip_recursive on;"]
    lines += block(
        "geo $realip_remote_addr $hp_peer_trusted",
        ["default 0;", *(f"{cidr} 1;" for cidr in trusted)],
    )
    lines += block(
        'map "$hp_peer_trusted$http_cf_connecting_ip" $hp_client',
        ['"~^1(?<hp_cf>[0-9A-Fa-f.:]+)$" $hp_cf;', "default $remote_addr;"],
    )
    lines += block(
        'map "$hp_peer_trusted$http_cf_connecting_ip" $hp_cf_pass',
        ['"~^1(?<hp_cfp>.+)$" $hp_cfp;', 'default "";'],
    )
    lines += block(
        "map $http_x_forwarded_for $hp_xff",
        ['"" $realip_remote_addr;', 'default "$http_x_forwarded_for, $realip_remote_addr";'],
    )
    lines += block(
        'map "$hp_peer_trusted$http_x_forwarded_proto" $hp_proto',
        ['"~^1(?<hp_p>https?)$" $hp_p;', "default $scheme;"],
    )
    lines += block(
        'map "$hp_peer_trusted$http_x_forwarded_host" $hp_forwarded_host',
        ['"~^1(?<hp_h>.+)$" $hp_h;', "default $http_host;"],
    )
    return lines


def cors_rules(spec: Gateway) -> list[str]:
    """The allowlist as a map over $http_origin, and the preflight decision."""
    patterns = [origin_pattern(origin) for origin in spec.cors.origins]
    allowed = [f"{quote('~*' + p)} $http_origin;" for p in patterns]
    lines = block("map $http_origin $hp_cors_origin", [*allowed, 'default "";'])
    credentials = '"true"' if spec.cors.credentials else '""'
    lines += block(
        "map $hp_cors_origin $hp_cors_credentials", ['"" "";', f"default {credentials};"]
    )
    lines += block(
        'map "$request_method:$http_access_control_request_method:$hp_cors_origin:$http_origin"'
        " $hp_preflight",
        ['"~^OPTIONS:[^:]+:https?:" allow;', '"~^OPTIONS:[^:]+::." deny;', 'default "";'],
    )
    lines += block(
        "map $hp_preflight $hp_preflight_methods",
        [f"allow {quote(ALLOWED_METHODS)};", 'default "";'],
    )
    lines += block(
        "map $hp_preflight $hp_preflight_headers",
        ["allow $http_access_control_request_headers;", 'default "";'],
    )
    lines += block(
        "map $hp_preflight $hp_preflight_max_age",
        [f"allow {spec.cors.max_age};", 'default "";'],
    )
    return lines


def proxy_settings(config: GatewayConfig) -> list[str]:
    """How every proxied request is sent: streamed, keep-alive, with the gateway's headers."""
    limits = config.limits
    lines = [
        "proxy_http_version 1.1;",
        "proxy_request_buffering off;",
        "proxy_buffering off;",
        "proxy_next_upstream off;",
        f"proxy_connect_timeout {int(limits.connect_timeout * 1000)}ms;",
        f"proxy_read_timeout {int(limits.read_timeout * 1000)}ms;",
        f"proxy_send_timeout {int(limits.read_timeout * 1000)}ms;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Forwarded-For $hp_xff;",
        "proxy_set_header X-Forwarded-Proto $hp_proto;",
        "proxy_set_header X-Forwarded-Host $hp_forwarded_host;",
        "proxy_set_header X-Real-IP $hp_client;",
        "proxy_set_header CF-Connecting-IP $hp_cf_pass;",
    ]
    lines += [f'proxy_set_header {name} "";' for name in HOP_BY_HOP_REQUEST]
    lines += [f"proxy_hide_header {name};" for name in CORS_FROM_UPSTREAM]
    return lines


def error_locations() -> list[str]:
    """JSON bodies for the answers nginx makes itself."""
    answers = {
        413: '{"error":"request body too large"}',
        502: '{"error":"upstream unavailable","route":"$hp_route_name"}',
        504: '{"error":"upstream timed out","route":"$hp_route_name"}',
    }
    lines = ["error_page 413 @hp_413;", "error_page 502 503 @hp_502;", "error_page 504 @hp_504;"]
    for status, body in answers.items():
        lines += block(f"location @hp_{status}", [f"return {status} {quote(body)};"])
    return lines


def server_block(config: GatewayConfig, listen: str) -> list[str]:
    """The server: CORS headers, the gateway's own endpoints, then the routes."""
    main = [
        "if ($hp_preflight = allow) { return 204; }",
        'if ($hp_preflight = deny) { return 403 \'{"error":"origin not allowed"}\'; }',
        'if ($hp_route = "") { return 404 \'{"error":"no route matches"}\'; }',
    ]
    for route in config.routes.routes:
        if route.strip_prefix and route.path is not None:
            prefix = re.escape(route.path.rstrip("/"))
            rewrite = f"rewrite {quote('^' + prefix + '/?(.*)$')} /$1 break;"
            main.append(f"if ($hp_route = {route.index}) {{ {rewrite} }}")
    main.append("proxy_pass $hp_upstream;")
    lines = [
        f"listen {listen};",
        f"client_max_body_size {config.limits.max_body};",
        "add_header Access-Control-Allow-Origin $hp_cors_origin always;",
        "add_header Access-Control-Allow-Credentials $hp_cors_credentials always;",
        "add_header Access-Control-Allow-Methods $hp_preflight_methods always;",
        "add_header Access-Control-Allow-Headers $hp_preflight_headers always;",
        "add_header Access-Control-Max-Age $hp_preflight_max_age always;",
        "add_header Vary Origin always;",
        *block("location = /healthz", ['return 200 \'{"status":"ok"}\';']),
        *block("location = /api/public/geo", ["proxy_pass http://hp_geo;"]),
        *block("location /", main),
        *error_locations(),
    ]
    return block("server", lines)


def render_config(
    config: GatewayConfig, spec: Gateway, geo_url: str, listen: str, workers: str = "auto"
) -> str:
    """The whole nginx.conf; paths (logs, temp files) are relative to nginx's ``-p`` prefix."""
    names = upstream_names(config)
    upstreams: list[str] = []
    for target, name in names.items():
        url = config.upstreams[target]
        if url is None:  # compile_gateway without allow_pending never leaves one unresolved
            raise GatewayConfigError(f"route target '{target}' has no address")
        address = server_address(url, f"route target '{target}'")
        upstreams += block(f"upstream {name}", [f"server {address} max_fails=0;", "keepalive 64;"])
    geo = server_address(URL(geo_url), "--geo-url")
    upstreams += block("upstream hp_geo", [f"server {geo} max_fails=0;", "keepalive 16;"])
    http = [
        "access_log off;",
        "server_tokens off;",
        "default_type application/json;",
        "keepalive_requests 100000;",
        "client_body_temp_path client_body_temp;",
        "proxy_temp_path proxy_temp;",
        "fastcgi_temp_path fastcgi_temp;",
        "uwsgi_temp_path uwsgi_temp;",
        "scgi_temp_path scgi_temp;",
        *upstreams,
        *client_address_rules(config),
        *cors_rules(spec),
        *route_selection(config, spec),
        *per_route_maps(config, names),
        *proxy_settings(config),
        *server_block(config, listen),
    ]
    head = [
        "# Rendered by `homeport gateway render nginx`; edit homeport.yaml, not this file.",
        f"worker_processes {workers};",
        "error_log error.log warn;",
        *block("events", ["worker_connections 4096;"]),
    ]
    return "\n".join([*head, *block("http", http)]) + "\n"


def render_nginx(
    loaded: LoadedPlatform,
    endpoints: Mapping[str, str],
    geo_url: str = "http://127.0.0.1:8080",
    listen: str = "127.0.0.1:8080",
    workers: str = "auto",
) -> str:
    """Render the platform's gateway section as an nginx configuration."""
    spec = loaded.platform.gateway
    if spec is None:
        raise GatewayConfigError(f"{loaded.path} has no 'gateway:' section to render")
    config = compile_gateway(
        spec, frozenset(loaded.platform.services), endpoints, loaded.state_dir, loaded.root
    )
    return render_config(config, spec, geo_url, listen, workers)
