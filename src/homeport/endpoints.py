"""Where the services of a running platform listen: the ``HOMEPORT_ENDPOINTS`` contract.

``homeport up`` gives every child ``$HOMEPORT_ENDPOINTS`` and writes the same JSON, under
``"services"``, to ``endpoints.json`` in the state directory:
``{"<svc>": {"host": "127.0.0.1", "port": N, "url": "..."}}``. The gateway and the seed step read
it through ``service_urls``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ENV_VARIABLE = "HOMEPORT_ENDPOINTS"
STATE_FILE = "endpoints.json"


def service_urls(services: Mapping[str, Any], default_scheme: str = "http") -> dict[str, str]:
    """Service name to URL; an entry without ``url`` gets ``<default_scheme>://host:port``."""
    urls: dict[str, str] = {}
    for name, entry in services.items():
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            urls[name] = entry["url"]
        elif isinstance(entry, dict) and "host" in entry and "port" in entry:
            urls[name] = f"{default_scheme}://{entry['host']}:{entry['port']}"
    return urls
