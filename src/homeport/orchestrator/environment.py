"""What each child process sees: references resolved, PORT, HOST, the endpoints of the others.

``child_env`` is the single place where a child's environment is built; telemetry settings
(OTEL_*) belong here too.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from homeport.endpoints import ENV_VARIABLE
from homeport.orchestrator.ports import Endpoint

REFERENCE = re.compile(r"\{(?:([a-z][a-z0-9_-]*)\.)?(url|host|port|name)\}")


def resolve(text: str, endpoints: Mapping[str, Endpoint], own: str) -> str:
    """Fill ``{svc.url|host|port|name}`` (and bare ``{port}`` etc. for the service itself)."""

    def substitute(match: re.Match[str]) -> str:
        target = match.group(1) or own
        attribute = match.group(2)
        if attribute == "name":
            return target
        endpoint = endpoints.get(target)
        if endpoint is None:
            return match.group(0)
        return str(getattr(endpoint, attribute))

    return REFERENCE.sub(substitute, text)


def endpoints_json(endpoints: Mapping[str, Endpoint]) -> str:
    """The HOMEPORT_ENDPOINTS value: ``{"svc": {"host", "port", "url"}}``."""
    return json.dumps({name: e.as_dict() for name, e in endpoints.items()}, sort_keys=True)


def service_env(
    name: str,
    declared: Mapping[str, object],
    endpoints: Mapping[str, Endpoint],
    state_dir: Path,
    otlp_endpoint: str = "",
) -> dict[str, str]:
    """The variables homeport sets for one service (not the inherited environment).

    With ``otlp_endpoint`` (the dashboard's), the service exports its telemetry there under its
    own name; a service's declared ``env`` may still point it elsewhere.
    """
    endpoint = endpoints[name]
    env = {
        "PORT": str(endpoint.port),
        "HOST": endpoint.host,
        "HOMEPORT_SERVICE": name,
        ENV_VARIABLE: endpoints_json(endpoints),
        "HOMEPORT_STATE_DIR": str(state_dir),
    }
    if otlp_endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
        env["OTEL_SERVICE_NAME"] = name
        env["OTEL_BSP_SCHEDULE_DELAY"] = "500"  # locally, spans should show within a second
    for key, value in declared.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env[key] = resolve(text, endpoints, name)
    return env


def child_env(own: Mapping[str, str], inherited: Mapping[str, str] | None = None) -> dict[str, str]:
    """The full environment of a child process: inherited, then homeport's, then the service's.

    The interpreter running homeport comes first on PATH, so ``python`` in a ``run:`` line is
    the one that has homeport's dependencies; output is unbuffered so log lines arrive at once.
    """
    env = dict(os.environ if inherited is None else inherited)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", os.defpath)])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(own)
    return env
