"""The run plan, pure: for each resource, what to run, where, with which env and checks."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homeport.model.services import Probe, Restart, Service
from homeport.orchestrator.builtin_commands import BUILTIN_COMMANDS, BUILTIN_HEALTH
from homeport.orchestrator.environment import resolve, service_env
from homeport.orchestrator.graph import Graph
from homeport.orchestrator.ports import Endpoint

SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?]")


@dataclass(frozen=True)
class ResourceSpec:
    """Everything the supervisor needs to run one resource; built from the file, no I/O."""

    name: str
    kind: str
    endpoint: Endpoint
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = Path()
    image: str | None = None
    health: Probe | None = None
    startup: Probe | None = None
    liveness: Probe | None = None
    startup_timeout: float = 60.0
    restart: Restart = field(default_factory=Restart)
    stop_grace: float = 5.0
    databases: tuple[str, ...] = ()
    fixed_port: bool = False
    state_dir: Path = Path(".homeport")
    mirror_upstream: str | None = None


@dataclass(frozen=True)
class RunPlan:
    """The resources to run, their graph and where state lives."""

    platform_name: str
    platform_file: Path
    state_dir: Path
    graph: Graph
    resources: dict[str, ResourceSpec]
    endpoints: dict[str, Endpoint]


def command_line(
    run: list[str] | str | None, endpoints: Mapping[str, Endpoint], own: str
) -> list[str]:
    """The argv of a ``run:`` value: a list as is, a string split like a shell would.

    A string that uses shell syntax (pipes, ``&&``, ``$VAR``...) runs under ``sh -c``.
    """
    if run is None:
        return []
    if isinstance(run, list):
        return [resolve(part, endpoints, own) for part in run]
    text = resolve(run, endpoints, own)
    if SHELL_SYNTAX.search(text):
        return ["sh", "-c", text]
    return shlex.split(text)


def plan_resource(
    name: str,
    *,
    service: Service,
    endpoints: Mapping[str, Endpoint],
    root: Path,
    platform_file: Path,
    state_dir: Path,
    otlp_endpoint: str = "",
) -> ResourceSpec:
    """The spec of one service, with references, env and its kind's defaults filled in."""
    endpoint = endpoints[name]
    argv = command_line(service.run, endpoints, name)
    health = service.health
    builtin = BUILTIN_COMMANDS.get(service.kind)
    if builtin is not None and not argv:
        argv = builtin(platform_file, endpoint.port)
        health = health or BUILTIN_HEALTH
    return ResourceSpec(
        name=name,
        kind=service.kind,
        endpoint=endpoint,
        argv=argv,
        env=service_env(name, service.env, endpoints, state_dir, otlp_endpoint),
        cwd=(root / service.cwd) if service.cwd else root,
        image=service.image if service.kind == "container" else None,
        health=health,
        startup=service.startup,
        liveness=service.liveness,
        startup_timeout=service.startup_timeout,
        restart=service.restart,
        stop_grace=service.stop_grace,
        databases=tuple(service.databases),
        fixed_port=service.port is not None,
        state_dir=state_dir,
        mirror_upstream=service.mirror.upstream if service.mirror else None,
    )


def plan_run(
    platform_name: str,
    *,
    services: Mapping[str, Service],
    graph: Graph,
    endpoints: Mapping[str, Endpoint],
    root: Path,
    platform_file: Path,
    state_dir: Path,
    otlp_endpoint: str = "",
) -> RunPlan:
    """The whole plan for the resources of ``graph`` (already narrowed to the selection)."""
    resources = {
        name: plan_resource(
            name,
            service=services[name],
            endpoints=endpoints,
            root=root,
            platform_file=platform_file,
            state_dir=state_dir,
            otlp_endpoint=otlp_endpoint,
        )
        for name in graph.names
    }
    return RunPlan(platform_name, platform_file, state_dir, graph, resources, dict(endpoints))
