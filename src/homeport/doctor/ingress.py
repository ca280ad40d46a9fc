"""Tunnel ingress rules: mistakes cloudflared refuses at start, or accepts and then misroutes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from homeport.doctor import Finding, check, finding
from homeport.model import IngressRule, LoadedPlatform

SERVICE_SCHEMES = ("http", "https", "tcp", "ssh", "rdp", "smb", "unix", "unix+tls", "ws", "wss")
BARE_SERVICES = ("hello_world", "bastion", "socks5")
MATCH_ALL_PATHS = ("", ".*", "^.*", "^.*$", "/", "^/")
_HTTP_STATUS = re.compile(r"^http_status:(.*)$")


def _rules(loaded: LoadedPlatform) -> list[IngressRule]:
    edge = loaded.platform.edge
    return edge.ingress if edge else []


def matches_everything(rule: IngressRule) -> bool:
    """True when a rule matches every request: no hostname (or ``*``) and no narrowing path."""
    open_host = rule.hostname is None or rule.hostname.strip() == "*"
    return open_host and (rule.path is None or rule.path.strip() in MATCH_ALL_PATHS)


@check("ingress-catch-all")
def last_rule_is_catch_all(loaded: LoadedPlatform) -> Iterator[Finding]:
    """The last ingress rule must match everything: no hostname and no path."""
    rules = _rules(loaded)
    if not rules:
        return
    last = len(rules) - 1
    if rules[last].hostname is None and rules[last].path is None:
        return
    yield finding(
        loaded,
        ("edge", "ingress", last),
        severity="error",
        check_id="ingress-catch-all",
        message="the last ingress rule is not a catch-all; cloudflared refuses this config",
        fix="end edge.ingress with a rule without hostname or path, "
        "e.g. {service: 'http_status:404'}",
    )


@check("ingress-unreachable-rule")
def only_last_matches_everything(loaded: LoadedPlatform) -> Iterator[Finding]:
    """A rule that matches everything before the end hides every rule after it."""
    rules = _rules(loaded)
    for index, rule in enumerate(rules[:-1]):
        if matches_everything(rule):
            hidden = len(rules) - index - 1
            after = "the rule after it is" if hidden == 1 else f"the {hidden} rules after it are"
            yield finding(
                loaded,
                ("edge", "ingress", index),
                severity="error",
                check_id="ingress-unreachable-rule",
                message=f"ingress rule {index + 1} matches every request, so {after} never used",
                fix="give it a hostname or path, or move it to the end as the catch-all",
            )


def wildcard_problem(hostname: str) -> str | None:
    """Why ``hostname`` is not a hostname cloudflared can match, or None when it is fine."""
    if "*" not in hostname:
        return None
    labels = hostname.split(".")
    if hostname.count("*") > 1:
        return "holds more than one '*'"
    if labels[0] != "*":
        return "has '*' outside its first label, or as part of a label"
    return None


@check("ingress-wildcard")
def wildcard_is_whole_first_label(loaded: LoadedPlatform) -> Iterator[Finding]:
    """A hostname may hold one ``*``, and only as its whole first label (``*.example.com``)."""
    for index, rule in enumerate(_rules(loaded)):
        problem = wildcard_problem(rule.hostname) if rule.hostname else None
        if problem:
            yield finding(
                loaded,
                ("edge", "ingress", index, "hostname"),
                severity="error",
                check_id="ingress-wildcard",
                message=f"ingress hostname '{rule.hostname}' {problem}; cloudflared never "
                "matches it",
                fix="write the wildcard as the whole first label, e.g. '*.example.com'",
            )


@check("ingress-path-unanchored")
def path_is_anchored(loaded: LoadedPlatform) -> Iterator[Finding]:
    """``path`` is a regular expression searched anywhere in the path: it should start with ^."""
    for index, rule in enumerate(_rules(loaded)):
        if rule.path is None or rule.path.startswith("^"):
            continue
        yield finding(
            loaded,
            ("edge", "ingress", index, "path"),
            severity="warning",
            check_id="ingress-path-unanchored",
            message=f"ingress path '{rule.path}' is an unanchored regular expression: it also "
            f"matches e.g. '/x{rule.path}'",
            fix=f"anchor it: '^{rule.path}'",
        )


@check("ingress-path-invalid")
def path_is_a_regex(loaded: LoadedPlatform) -> Iterator[Finding]:
    """``path`` must compile as a regular expression."""
    for index, rule in enumerate(_rules(loaded)):
        if rule.path is None:
            continue
        try:
            re.compile(rule.path)
        except re.error as exc:
            yield finding(
                loaded,
                ("edge", "ingress", index, "path"),
                severity="error",
                check_id="ingress-path-invalid",
                message=f"ingress path '{rule.path}' is not a regular expression ({exc})",
                fix="fix the expression, or escape special characters with a backslash",
            )


def service_problem(service: str) -> str | None:
    """Why ``service`` is not an origin cloudflared accepts, or None when it is fine."""
    service = service.strip()
    if service in BARE_SERVICES or _HTTP_STATUS.match(service):
        return None
    try:
        parts = urlsplit(service)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    has_slashes = "://" in service or parts.scheme.startswith("unix")
    if parts.scheme not in SERVICE_SCHEMES or not has_slashes:
        return "has no scheme; expected e.g. http://192.168.1.10:8080 or http_status:404"
    if parts.scheme in ("unix", "unix+tls"):
        return None
    if not parts.netloc:
        return "has no host; expected e.g. http://192.168.1.10:8080"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return (
            f"has a path ('{parts.path}'); cloudflared keeps the request's own path, "
            "so remove it and route by 'path:' instead"
        )
    return None


@check("ingress-service")
def service_has_scheme_and_no_path(loaded: LoadedPlatform) -> Iterator[Finding]:
    """A service is ``scheme://host:port`` with no path (or a bare service like http_status)."""
    for index, rule in enumerate(_rules(loaded)):
        problem = service_problem(rule.service)
        if problem:
            yield finding(
                loaded,
                ("edge", "ingress", index, "service"),
                severity="error",
                check_id="ingress-service",
                message=f"ingress service '{rule.service}' {problem}",
                fix="write the origin as scheme://host:port",
            )


@check("ingress-http-status")
def http_status_in_range(loaded: LoadedPlatform) -> Iterator[Finding]:
    """``http_status:NNN`` takes a status code between 100 and 999."""
    for index, rule in enumerate(_rules(loaded)):
        match = _HTTP_STATUS.match(rule.service.strip())
        if match is None:
            continue
        code = match.group(1)
        if code.isdigit() and 100 <= int(code) <= 999:
            continue
        yield finding(
            loaded,
            ("edge", "ingress", index, "service"),
            severity="error",
            check_id="ingress-http-status",
            message=f"ingress service '{rule.service}' needs a status code between 100 and 999",
            fix="write e.g. http_status:404",
        )
