"""Each doctor check, table-driven: a platform snippet in, the findings a user would read out."""

from __future__ import annotations

import pytest

from homeport.doctor import diagnose, registered_checks
from homeport.doctor.names import record_fqdn, zone_of
from homeport.model import load_platform_text

TUNNEL = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
TARGET = f"{TUNNEL}.cfargotunnel.com"


def edge_platform(ingress: str, records: str, zone: str = "example.com", extra: str = "") -> str:
    """A platform whose edge has the given ingress rules and records (flow-style lines)."""
    return (
        "name: demo\n"
        "edge:\n"
        "  account_id: acc\n"
        f"  tunnel: {{id: {TUNNEL}}}\n"
        "  ingress:\n"
        + "".join(f"    - {line}\n" for line in ingress.strip().splitlines())
        + "  zones:\n"
        f"    {zone}:\n"
        + (
            "      records:\n" + "".join(f"      - {line}\n" for line in records.splitlines())
            if records.strip()
            else "      records: []\n"
        )
        + extra
    )


WWW_CNAME = f"{{name: www, type: CNAME, content: {TARGET}, proxied: true}}"
WWW_RULE = "{hostname: www.example.com, service: 'http://10.0.0.1:80'}"
CATCH_ALL = "{service: 'http_status:404'}"
GOOD_EDGE = edge_platform(f"{WWW_RULE}\n{CATCH_ALL}", WWW_CNAME)


def run_check(check_id: str, text: str, env: dict[str, str] | None = None) -> list[str]:
    """The findings of one check as the lines a user reads, without the file name."""
    loaded = load_platform_text(text, env=env or {})
    found = sorted(registered_checks()[check_id](loaded))
    assert all(f.id == check_id for f in found)
    return [str(f).removeprefix("homeport.yaml:") for f in found]


CASES: list[tuple[str, str, str, list[str]]] = [
    # (case, check id, platform text, expected "line:col:" + substring per finding)
    ("good edge passes", "ingress-catch-all", GOOD_EDGE, []),
    (
        "no catch-all at the end",
        "ingress-catch-all",
        edge_platform(WWW_RULE, WWW_CNAME),
        ["6:7: error [ingress-catch-all] the last ingress rule is not a catch-all"],
    ),
    (
        "catch-all with a path is not a catch-all",
        "ingress-catch-all",
        edge_platform(f"{WWW_RULE}\n{{path: '^/', service: 'http_status:404'}}", WWW_CNAME),
        ["7:7: error [ingress-catch-all]"],
    ),
    (
        "a match-everything rule before the end",
        "ingress-unreachable-rule",
        edge_platform(f"{{service: 'http://10.0.0.2:80'}}\n{WWW_RULE}\n{CATCH_ALL}", WWW_CNAME),
        ["6:7: error [ingress-unreachable-rule] ingress rule 1 matches every request, so the 2"],
    ),
    (
        "a '*' hostname with '.*' path before the end",
        "ingress-unreachable-rule",
        edge_platform(f"{{hostname: '*', path: '.*', service: 'http://a:1'}}\n{CATCH_ALL}", ""),
        ["6:7: error [ingress-unreachable-rule]"],
    ),
    (
        "wildcard as whole first label is fine",
        "ingress-wildcard",
        edge_platform(f"{{hostname: '*.example.com', service: 'http://a:1'}}\n{CATCH_ALL}", ""),
        [],
    ),
    (
        "wildcard inside a label",
        "ingress-wildcard",
        edge_platform(f"{{hostname: 'app-*.example.com', service: 'http://a:1'}}\n{CATCH_ALL}", ""),
        ["6:18: error [ingress-wildcard] ingress hostname 'app-*.example.com' has '*' outside"],
    ),
    (
        "wildcard below the first label",
        "ingress-wildcard",
        edge_platform(f"{{hostname: 'a.*.example.com', service: 'http://a:1'}}\n{CATCH_ALL}", ""),
        ["6:18: error [ingress-wildcard]"],
    ),
    (
        "two wildcards",
        "ingress-wildcard",
        edge_platform(f"{{hostname: '*.*.example.com', service: 'http://a:1'}}\n{CATCH_ALL}", ""),
        ["6:18: error [ingress-wildcard] ingress hostname '*.*.example.com' holds more than one"],
    ),
    (
        "unanchored path",
        "ingress-path-unanchored",
        edge_platform(
            f"{{hostname: www.example.com, path: /api, service: 'http://a:1'}}\n{CATCH_ALL}",
            WWW_CNAME,
        ),
        ["6:41: warning [ingress-path-unanchored] ingress path '/api' is an unanchored"],
    ),
    (
        "anchored path",
        "ingress-path-unanchored",
        edge_platform(
            f"{{hostname: www.example.com, path: ^/api, service: 'http://a:1'}}\n{CATCH_ALL}",
            WWW_CNAME,
        ),
        [],
    ),
    (
        "path that is not a regex",
        "ingress-path-invalid",
        edge_platform(
            f"{{hostname: www.example.com, path: '^/api(', service: 'http://a:1'}}\n{CATCH_ALL}",
            WWW_CNAME,
        ),
        ["6:41: error [ingress-path-invalid] ingress path '^/api(' is not a regular expression"],
    ),
    (
        "service without scheme",
        "ingress-service",
        edge_platform(
            f"{{hostname: www.example.com, service: 'localhost:8080'}}\n{CATCH_ALL}", WWW_CNAME
        ),
        ["6:44: error [ingress-service] ingress service 'localhost:8080' has no scheme"],
    ),
    (
        "service with a path",
        "ingress-service",
        edge_platform(
            f"{{hostname: www.example.com, service: 'http://a:1/app'}}\n{CATCH_ALL}", WWW_CNAME
        ),
        ["6:44: error [ingress-service] ingress service 'http://a:1/app' has a path ('/app')"],
    ),
    (
        "service with a bad port",
        "ingress-service",
        edge_platform(
            f"{{hostname: www.example.com, service: 'http://a:http'}}\n{CATCH_ALL}", WWW_CNAME
        ),
        ["6:44: error [ingress-service] ingress service 'http://a:http' is not a valid URL"],
    ),
    (
        "bare services and unix sockets are fine",
        "ingress-service",
        edge_platform(
            "{hostname: a.example.com, service: hello_world}\n"
            "{hostname: b.example.com, service: 'unix:/run/app.sock'}\n"
            "{hostname: c.example.com, service: 'https://10.0.0.1:443/'}\n"
            f"{CATCH_ALL}",
            "",
        ),
        [],
    ),
    (
        "http_status out of range",
        "ingress-http-status",
        edge_platform(f"{WWW_RULE}\n{{service: 'http_status:4040'}}", WWW_CNAME),
        ["7:17: error [ingress-http-status] ingress service 'http_status:4040' needs a status"],
    ),
    (
        "http_status not a number",
        "ingress-http-status",
        edge_platform(f"{WWW_RULE}\n{{service: 'http_status:abc'}}", WWW_CNAME),
        ["7:17: error [ingress-http-status]"],
    ),
    ("tunnel CNAMEs all present", "tunnel-dns-missing", GOOD_EDGE, []),
    (
        "ingress hostname without a record",
        "tunnel-dns-missing",
        edge_platform(f"{WWW_RULE}\n{CATCH_ALL}", "{name: mail, type: A, content: 10.0.0.9}"),
        ["6:18: error [tunnel-dns-missing] ingress hostname 'www.example.com' has no CNAME to"],
    ),
    (
        "ingress hostname whose CNAME points elsewhere",
        "tunnel-dns-missing",
        edge_platform(f"{WWW_RULE}\n{CATCH_ALL}", "{name: www, type: CNAME, content: x.pages.dev}"),
        [
            "6:18: error [tunnel-dns-missing] ingress hostname 'www.example.com' has no CNAME to "
            "the tunnel in zone example.com (its CNAME points to 'x.pages.dev')"
        ],
    ),
    (
        "ingress hostname in no zone",
        "tunnel-dns-missing",
        edge_platform(
            f"{{hostname: www.other.org, service: 'http://a:1'}}\n{CATCH_ALL}", WWW_CNAME
        ),
        ["6:18: error [tunnel-dns-missing] ingress hostname 'www.other.org' is in no zone"],
    ),
    (
        "record names: apex '@', fully qualified with a dot, and in the longest zone",
        "tunnel-dns-missing",
        edge_platform(
            "{hostname: example.com, service: 'http://a:1'}\n"
            "{hostname: api.example.com, service: 'http://a:1'}\n"
            "{hostname: x.eu.example.com, service: 'http://a:1'}\n"
            f"{CATCH_ALL}",
            f"{{name: '@', type: CNAME, content: {TARGET}, proxied: true}}\n"
            f"{{name: api.example.com., type: CNAME, content: {TARGET.upper()}., proxied: true}}",
            extra=(
                "    eu.example.com:\n      records:\n"
                f"      - {{name: x, type: CNAME, content: {TARGET}, proxied: true}}\n"
            ),
        ),
        [],
    ),
    ("tunnel CNAMEs all routed", "tunnel-dns-orphan", GOOD_EDGE, []),
    (
        "a tunnel CNAME without an ingress rule",
        "tunnel-dns-orphan",
        edge_platform(CATCH_ALL, WWW_CNAME),
        ["10:9: error [tunnel-dns-orphan] 'www.example.com' routes to the tunnel but no ingress"],
    ),
    (
        "a tunnel CNAME covered by a wildcard rule",
        "tunnel-dns-orphan",
        edge_platform(
            f"{{hostname: '*.example.com', service: 'http://a:1'}}\n{CATCH_ALL}", WWW_CNAME
        ),
        [],
    ),
    (
        "a CNAME to another tunnel",
        "tunnel-dns-orphan",
        edge_platform(
            f"{WWW_RULE}\n{CATCH_ALL}",
            "{name: www, type: CNAME, content: old.cfargotunnel.com, proxied: true}",
        ),
        [
            "11:43: error [tunnel-dns-orphan] 'www.example.com' points to tunnel "
            "'old.cfargotunnel.com', not to this platform's tunnel"
        ],
    ),
    (
        "unproxied tunnel CNAME",
        "tunnel-cname-unproxied",
        edge_platform(
            f"{WWW_RULE}\n{CATCH_ALL}",
            f"{{name: www, type: CNAME, content: {TARGET}, proxied: false}}",
        ),
        ["11:9: error [tunnel-cname-unproxied] the CNAME 'www.example.com' to the tunnel is not"],
    ),
    (
        "tunnel CNAME with proxied left out",
        "tunnel-cname-unproxied",
        edge_platform(f"{WWW_RULE}\n{CATCH_ALL}", f"{{name: www, type: CNAME, content: {TARGET}}}"),
        ["11:9: error [tunnel-cname-unproxied]"],
    ),
    (
        "proxied name two labels below the zone",
        "universal-ssl-depth",
        edge_platform(CATCH_ALL, "{name: a.b, type: A, content: 10.0.0.1, proxied: true}"),
        ["10:9: warning [universal-ssl-depth] 'a.b.example.com' is 2 labels below zone"],
    ),
    (
        "wildcard two labels below the zone",
        "universal-ssl-depth",
        edge_platform(CATCH_ALL, "{name: '*.dev', type: A, content: 10.0.0.1, proxied: true}"),
        ["10:9: warning [universal-ssl-depth] '*.dev.example.com' is 2 labels below"],
    ),
    (
        "deep names that are DNS-only or one label down are fine",
        "universal-ssl-depth",
        edge_platform(
            CATCH_ALL,
            "{name: a.b, type: A, content: 10.0.0.1, proxied: false}\n"
            "{name: '*', type: A, content: 10.0.0.1, proxied: true}\n"
            "{name: a.b, type: TXT, content: x}",
        ),
        [],
    ),
]

CORS_BASE = edge_platform(
    CATCH_ALL,
    "{name: '@', type: A, content: 10.0.0.1}",
    extra="      frontends: [example.com, jobs.example.com]\n    example.net:\n      records: []\n",
)
CASES += [
    (
        "CORS covers every zone",
        "cors-zone-missing",
        CORS_BASE + "gateway:\n  cors: [https://example.com, https://jobs.example.com, "
        "https://example.net]\n",
        [],
    ),
    (
        "CORS wildcards and the mapping form",
        "cors-zone-missing",
        CORS_BASE + "gateway:\n  cors:\n    origins: ['https://*.example.com', example.com, "
        "'http://example.net:8080']\n",
        [],
    ),
    (
        "CORS leaves out one zone's front end and another zone's apex",
        "cors-zone-missing",
        CORS_BASE + "gateway:\n  cors: [https://example.com]\n",
        [
            "15:9: warning [cors-zone-missing] the CORS origins leave out zone example.com "
            "(jobs.example.com)",
            "15:9: warning [cors-zone-missing] the CORS origins leave out zone example.net "
            "(example.net)",
        ],
    ),
]

SERVICES = "name: demo\nservices:\n  web:\n    run: app\n"
ENVIRONMENTS = (
    "hosts:\n  a: {address: 10.0.0.1, roles: [app]}\n  b: {address: 10.0.0.2, roles: [app]}\n"
    "environments:\n"
)
CASES += [
    (
        "explicit :latest image",
        "image-latest",
        SERVICES + "    image: registry.local:5000/web:latest\n",
        ["5:12: error [image-latest] service 'web' uses the image tag ':latest'"],
    ),
    (
        "registry port, untagged and digest images are not :latest",
        "image-latest",
        SERVICES
        + "    image: registry.local:5000/web\n"
        + "  api: {run: x, image: 'api@sha256:0123'}\n  db: {run: x, image: 'db:15'}\n",
        [],
    ),
    (
        "an environment deploying latest",
        "image-latest",
        "name: demo\n" + ENVIRONMENTS + "  dev: {host: a, image_tag: latest}\n",
        ["6:29: error [image-latest] environment 'dev' deploys the image tag 'latest'"],
    ),
    (
        "two environments sharing a tag",
        "image-tag-shared",
        "name: demo\n"
        + ENVIRONMENTS
        + "  dev: {host: a, image_tag: main}\n  prod: {host: b, image_tag: main}\n",
        ["7:30: error [image-tag-shared] environments 'dev' and 'prod' share the image tag"],
    ),
    (
        "each environment its own tag",
        "image-tag-shared",
        "name: demo\n"
        + ENVIRONMENTS
        + "  dev: {host: a, image_tag: dev}\n  prod: {host: b, image_tag: prod}\n",
        [],
    ),
    (
        "registry without deletes",
        "registry-deletes-disabled",
        "name: demo\nregistry:\n  url: http://r\n  gc: {enabled: true}\n",
        ["2:1: warning [registry-deletes-disabled] the registry does not allow deletes"],
    ),
    (
        "registry with deletes explicitly off",
        "registry-deletes-disabled",
        "name: demo\nregistry:\n  url: http://r\n  delete_enabled: false\n",
        ["4:3: warning [registry-deletes-disabled]"],
    ),
    (
        "registry without gc",
        "registry-gc-missing",
        "name: demo\nregistry:\n  url: http://r\n  delete_enabled: true\n",
        ["2:1: warning [registry-gc-missing] the registry has no garbage collection"],
    ),
    (
        "registry with gc disabled",
        "registry-gc-missing",
        "name: demo\nregistry:\n  url: http://r\n  gc: {enabled: false}\n",
        ["4:3: warning [registry-gc-missing]"],
    ),
    (
        "registry with deletes and gc",
        "registry-gc-missing",
        "name: demo\nregistry:\n  url: http://r\n  delete_enabled: true\n  gc: {}\n",
        [],
    ),
]

LAN = "name: demo\ndns:\n  overrides:\n    - {name: '*.example.com', address: 10.0.0.1}\n"
CASES += [
    (
        "override with its wildcard cert",
        "localdns-wildcard-cert",
        LAN + "    - {name: app.example.com, address: 10.0.0.1}\n"
        "  wildcard_certs: ['*.example.com']\n",
        [],
    ),
    (
        "override without a cert",
        "localdns-wildcard-cert",
        LAN + "  wildcard_certs: ['*.example.net']\n",
        ["4:14: warning [localdns-wildcard-cert] the LAN override for '*.example.com'"],
    ),
    (
        "override two labels below the cert",
        "localdns-wildcard-cert",
        "name: demo\ndns:\n  overrides: [{name: a.b.example.com, address: 10.0.0.1}]\n"
        "  wildcard_certs: ['*.example.com']\n",
        ["3:22: warning [localdns-wildcard-cert] the LAN override for 'a.b.example.com'"],
    ),
]


def waf_platform(plan: str, expressions: list[str]) -> str:
    """A platform with one zone of ``plan`` holding one WAF rule per expression."""
    rules = "".join(
        f"        - {{name: r{i}, expression: '{e}'}}\n" for i, e in enumerate(expressions)
    )
    return edge_platform(CATCH_ALL, "", extra=f"      plan: {plan}\n      waf:\n{rules}")


SIMPLE = 'http.host eq "a"'
CASES += [
    ("five rules on free", "waf-rule-limit", waf_platform("free", [SIMPLE] * 5), []),
    (
        "six rules on free",
        "waf-rule-limit",
        waf_platform("free", [SIMPLE] * 6),
        [
            "17:11: warning [waf-rule-limit] zone example.com has 6 WAF rules but the free plan "
            "allows 5"
        ],
    ),
    ("six rules on pro", "waf-rule-limit", waf_platform("pro", [SIMPLE] * 6), []),
    (
        "regex operator on free",
        "waf-regex-free",
        waf_platform("free", ['http.request.uri.path matches "^/wp-"', 'http.host ~ "a"']),
        [
            "12:34: warning [waf-regex-free] WAF rule 'r0' uses the regex operator",
            "13:34: warning [waf-regex-free] WAF rule 'r1'",
        ],
    ),
    (
        "'matches' inside a string is not the operator",
        "waf-regex-free",
        waf_platform("free", ['http.request.uri.path contains "matches~"']),
        [],
    ),
    (
        "regex operator on business",
        "waf-regex-free",
        waf_platform("business", ['http.host matches "a"']),
        [],
    ),
]

# registry-mirror (its owner: the registry piece; more cases in tests/unit/test_registry_doctor.py)
CASES += [
    (
        "a mirror warns what dockerd does with it",
        "registry-mirror",
        "name: demo\nregistry:\n  url: http://r:5000\n  mirror: http://m:5001\n",
        ["4:11: warning [registry-mirror] mirror http://m:5001: dockerd uses registry-mirrors"],
    ),
    ("no mirror, no warning", "registry-mirror", "name: demo\nregistry: {url: http://r}\n", []),
]


@pytest.mark.parametrize(
    ("check_id", "text", "expected"),
    [pytest.param(c[1], c[2], c[3], id=c[0]) for c in CASES],
)
def test_check(check_id: str, text: str, expected: list[str]) -> None:
    lines = run_check(check_id, text)
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected, strict=True):
        assert line.startswith(want.split(" ", 1)[0]), (line, want)
        assert want.split(" ", 1)[1] in line, (line, want)


SECRET_CASES: list[tuple[str, str, str | None]] = [
    # (case, env entry of service web, expected kind or None)
    ("password by key", "DB_PASSWORD: hunter2", "a secret (its key is DB_PASSWORD)"),
    ("numeric password", "PASSWORD: 123456", "a secret (its key is PASSWORD)"),
    ("api key by key", "stripe-api-key: abc", "a secret (its key is stripe-api-key)"),
    ("token by key", "TOKEN: abc", "a secret (its key is TOKEN)"),
    ("private key value", 'TLS: "-----BEGIN RSA PRIVATE KEY-----"', "a private key"),
    ("github token value", "GH: ghp_" + "a1" * 18, "a GitHub token"),
    ("aws key value", "AWS: AKIAIOSFODNN7EXAMPLE", "an AWS access key"),
    ("jwt value", "AUTH: eyJhbGciOiJI.eyJzdWIiOiIx.SflKxwRJSMeKKF2Q", "a JSON Web Token"),
    ("url with password", "DATABASE_URL: postgres://app:hunter2@db/jobs", "a URL with a password"),
    ("url with a referenced password", "DATABASE_URL: 'postgres://app:{web.port}@db/x'", None),
    ("url without password", "DATABASE_URL: postgres://app@db/jobs", None),
    ("where a secret lives", "TOKEN_FILE: /run/secrets/token", None),
    ("secret from the environment", "DB_PASSWORD: ${DB_PASSWORD}", None),
    ("secret from the environment with text", "DB_PASSWORD: x-${DB_PASSWORD}", None),
    ("secret store pointer", "DB_PASSWORD: 'vault:secret/data/db#password'", None),
    ("reference to a service", "API_TOKEN: '{web.url}'", None),
    ("empty", "API_TOKEN: ''", None),
    ("boolean", "REQUIRE_TOKEN: true", None),
    ("harmless", "SECRETS_BACKEND: vault", None),
    ("harmless key with key in it", "KEY_NAME: autounseal", None),
]


@pytest.mark.parametrize(
    ("entry", "kind"), [pytest.param(c[1], c[2], id=c[0]) for c in SECRET_CASES]
)
def test_secret_in_clear(entry: str, kind: str | None) -> None:
    text = f"name: demo\nservices:\n  web:\n    run: app\n    env:\n      {entry}\n"
    lines = run_check("secret-in-clear", text, env={"DB_PASSWORD": "from-env"})
    if kind is None:
        assert lines == []
    else:
        key = entry.split(":", 1)[0]
        assert lines == [
            f"6:{len(key) + 9}: error [secret-in-clear] services.web.env.{key} holds {kind} "
            "in clear; move it to the environment (${NAME}) or the secret store, and rotate it"
        ]


def test_secret_anywhere_in_the_file_and_never_printed() -> None:
    text = GOOD_EDGE.replace(
        "'http://10.0.0.1:80'}", "'http://10.0.0.1:80', originRequest: {access_token: s3cr3t}}"
    )
    lines = run_check("secret-in-clear", text)
    assert len(lines) == 1
    assert "edge.ingress.0.originRequest.access_token holds a secret" in lines[0]
    assert "s3cr3t" not in lines[0]


def test_diagnose_sorts_findings_by_place_and_deduplicates() -> None:
    text = edge_platform(f"{{service: 'http://a:1'}}\n{WWW_RULE}", WWW_CNAME)
    found = diagnose(load_platform_text(text))
    assert [(f.line, f.id) for f in found] == [
        (6, "ingress-unreachable-rule"),
        (7, "ingress-catch-all"),
    ]


def test_every_registered_check_has_a_case() -> None:
    covered = {c[1] for c in CASES} | {"secret-in-clear"}
    assert covered == set(registered_checks())


@pytest.mark.parametrize(
    ("name", "zone", "fqdn"),
    [
        ("@", "example.com", "example.com"),
        ("www", "example.com", "www.example.com"),
        ("WWW", "example.com", "www.example.com"),
        ("www.example.com", "example.com", "www.example.com"),
        ("www.example.com.", "example.com", "www.example.com"),
        ("other.org.", "example.com", "other.org"),
        ("*", "example.com", "*.example.com"),
        ("a.b", "example.com", "a.b.example.com"),
    ],
)
def test_record_names(name: str, zone: str, fqdn: str) -> None:
    assert record_fqdn(name, zone) == fqdn


@pytest.mark.parametrize(
    ("hostname", "zone"),
    [
        ("example.com", "example.com"),
        ("a.b.example.com", "example.com"),
        ("x.eu.example.com", "eu.example.com"),
        ("EU.example.com.", "eu.example.com"),
        ("notexample.com", None),
        ("example.org", None),
    ],
)
def test_zone_is_the_longest_suffix(hostname: str, zone: str | None) -> None:
    assert zone_of(hostname, {"example.com", "eu.example.com"}) == zone
