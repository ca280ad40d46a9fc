"""Checks across sections: every name refers to something that exists, and nothing loops."""

from __future__ import annotations

import re
from collections.abc import Iterator

from homeport.errors import Problem
from homeport.model.loader import SourceMap
from homeport.model.platform import Platform
from homeport.model.services import REFERENCE_ATTRIBUTES, Service

REFERENCE = re.compile(r"\{([a-z][a-z0-9_-]*)\.([a-z_]+)\}")
WAIT_KEYS = ("wait_for", "wait_for_start", "wait_for_completion")
KIND_NEEDS = {"executable": "run", "container": "image", "seed": "seeds"}
SEED_TARGET_KINDS = ("postgres", "redis")


def is_url(text: str) -> bool:
    """True for ``scheme://...`` strings, which name something outside the platform."""
    return "://" in text


def check_references(platform: Platform, source: SourceMap) -> list[Problem]:
    """Every cross-reference problem in the platform, located in the file."""
    return [
        *_service_problems(platform, source),
        *_cycle_problems(platform, source),
        *_port_problems(platform, source),
        *_environment_problems(platform, source),
        *_gateway_problems(platform, source),
        *_failover_problems(platform, source),
    ]


def _service_problems(platform: Platform, source: SourceMap) -> Iterator[Problem]:
    names = sorted(platform.services)
    for name, service in platform.services.items():
        base = ("services", name)
        for key in WAIT_KEYS:
            for index, target in enumerate(getattr(service, key)):
                if target not in platform.services:
                    yield source.problem(
                        (*base, key, index),
                        f"'{target}' in {key} of service '{name}' is not a service; "
                        f"expected one of: {', '.join(names)}",
                    )
                elif target == name:
                    yield source.problem(
                        (*base, key, index), f"service '{name}' cannot wait for itself"
                    )
        yield from _reference_problems(name, service, platform, source)
        needed = KIND_NEEDS.get(service.kind)
        if needed and not getattr(service, needed):
            yield source.problem(
                base, f"service '{name}' of kind {service.kind} needs '{needed}'; add it", key=True
            )
        if service.kind == "gateway" and platform.gateway is None:
            yield source.problem(
                base,
                f"service '{name}' is a gateway but the file has no 'gateway:' section; add one",
                key=True,
            )
        for index, seed in enumerate(service.seeds):
            target = platform.services.get(seed.into)
            if is_url(seed.into):
                continue
            if target is None or target.kind not in SEED_TARGET_KINDS:
                candidates = [
                    n for n, s in platform.services.items() if s.kind in SEED_TARGET_KINDS
                ]
                yield source.problem(
                    (*base, "seeds", index, "into"),
                    f"seed target '{seed.into}' is not a postgres or redis service; "
                    f"expected one of: {', '.join(candidates) or '(none)'} or a URL",
                )


def _reference_problems(
    name: str, service: Service, platform: Platform, source: SourceMap
) -> Iterator[Problem]:
    texts: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(service.run, str):
        texts.append((("services", name, "run"), service.run))
    elif isinstance(service.run, list):
        texts.extend((("services", name, "run", i), part) for i, part in enumerate(service.run))
    texts.extend((("services", name, "env", key), str(v)) for key, v in service.env.items())
    for path, text in texts:
        for match in REFERENCE.finditer(text):
            target, attribute = match.groups()
            if target not in platform.services:
                yield source.problem(
                    path,
                    f"reference {match.group(0)} names no service; "
                    f"expected one of: {', '.join(sorted(platform.services))}",
                )
            elif attribute not in REFERENCE_ATTRIBUTES:
                yield source.problem(
                    path,
                    f"reference {match.group(0)} has unknown attribute '{attribute}'; "
                    f"expected one of: {', '.join(REFERENCE_ATTRIBUTES)}",
                )


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a closed path ``[a, b, c, a]``, or None when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _cycle_problems(platform: Platform, source: SourceMap) -> Iterator[Problem]:
    graph = {
        name: [d for d in service.dependencies if d != name]
        for name, service in platform.services.items()
    }
    cycle = find_cycle(graph)
    if cycle:
        yield source.problem(
            ("services", cycle[0]),
            f"dependency cycle: {' -> '.join(cycle)}; remove one of these waits",
            key=True,
        )


def _port_problems(platform: Platform, source: SourceMap) -> Iterator[Problem]:
    owners: dict[int, str] = {}
    for name, service in platform.services.items():
        if service.port is None:
            continue
        if service.port in owners:
            yield source.problem(
                ("services", name, "port"),
                f"port {service.port} of service '{name}' is already taken by "
                f"'{owners[service.port]}'; give one of them another port or leave it out",
            )
        else:
            owners[service.port] = name


def _environment_problems(platform: Platform, source: SourceMap) -> Iterator[Problem]:
    for name, environment in platform.environments.items():
        path = ("environments", name, "host")
        host = platform.hosts.get(environment.host)
        if host is None:
            yield source.problem(
                path,
                f"environment '{name}' runs on host '{environment.host}', which is not in hosts; "
                f"expected one of: {', '.join(sorted(platform.hosts)) or '(none)'}",
            )
        elif "app" not in host.roles:
            yield source.problem(
                path,
                f"host '{environment.host}' of environment '{name}' lacks the role 'app'; "
                "add it to the host's roles or pick an app host",
            )


def _gateway_problems(platform: Platform, source: SourceMap) -> Iterator[Problem]:
    if platform.gateway is None:
        return
    for index, route in enumerate(platform.gateway.routes):
        if not is_url(route.to) and route.to not in platform.services:
            yield source.problem(
                ("gateway", "routes", index, "to"),
                f"route target '{route.to}' is not a service; expected a service name "
                f"({', '.join(sorted(platform.services))}) or a URL",
            )


def _failover_problems(platform: Platform, source: SourceMap) -> Iterator[Problem]:
    if platform.edge is None or platform.edge.failover is None:
        return
    for name in platform.edge.failover.hostnames:
        if name not in platform.environments:
            yield source.problem(
                ("edge", "failover", "hostnames", name),
                f"failover names environment '{name}', which is not in environments; "
                f"expected one of: {', '.join(sorted(platform.environments)) or '(none)'}",
                key=True,
            )
