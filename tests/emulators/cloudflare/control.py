"""The control API under ``/__emulator__/`` (not part of Cloudflare's): faults, the request
log, the whole state, the rate-limit clock, and tunnel or Pages domain health.

Answers are plain JSON (no Cloudflare envelope); errors are ``{"error": "..."}`` with 400/404.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tests.emulators.cloudflare.api import ApiError, JsonDict, Reply
from tests.emulators.cloudflare.defaults import default_state
from tests.emulators.cloudflare.faults import Fault
from tests.emulators.cloudflare.routes_account import dashboard_edit
from tests.emulators.cloudflare.state import EmulatorState, connection

if TYPE_CHECKING:
    from tests.emulators.cloudflare.server import CloudflareEmulator

PREFIX = "/__emulator__"


def apply_dashboard_edit(state: EmulatorState, fault: Fault) -> int:
    """Bump the tunnel's configuration version (and set ``fault.config`` if given)."""
    tunnel_id = fault.tunnel_id or next(iter(state.tunnels), None)
    tunnel = state.tunnels.get(tunnel_id or "")
    if tunnel is None:
        raise ApiError(404, 1003, f"no tunnel {tunnel_id!r} to edit")
    return dashboard_edit(tunnel, fault.config)


def answer(emulator: CloudflareEmulator, method: str, path: str, raw: bytes) -> Reply:
    """Answer one control request."""
    route = path[len(PREFIX) :].split("?", 1)[0].rstrip("/")
    try:
        body: Any = json.loads(raw) if raw.strip() else {}
        status, payload = _dispatch(emulator, method, route, body)
    except ApiError as error:
        status, payload = error.status, {"error": error.message}
    except (ValueError, TypeError, KeyError) as error:
        status, payload = 400, {"error": f"bad control request: {error}"}
    return Reply(status, payload, {})


def _dispatch(emulator: CloudflareEmulator, method: str, route: str, body: Any) -> tuple[int, Any]:
    state = emulator.state
    if (method, route) == ("GET", "/state"):
        return 200, state.dump()
    if (method, route) == ("POST", "/state"):
        state.load(body)
        return 200, {"loaded": True}
    if (method, route) == ("POST", "/reset"):
        state.load(body or default_state(state.default_plan))
        emulator.faults.clear()
        emulator.log.reset()
        emulator.limiter.reset()
        emulator.limiter.limit, emulator.limiter.window = emulator.rate_policy
        return 200, {"reset": True}
    if (method, route) == ("GET", "/requests"):
        return 200, emulator.log.entries()
    if (method, route) == ("POST", "/requests/reset"):
        emulator.log.reset()
        return 200, {"reset": True}
    if (method, route) == ("GET", "/faults"):
        return 200, emulator.faults.list()
    if (method, route) == ("DELETE", "/faults"):
        emulator.faults.clear()
        return 200, {"cleared": True}
    if (method, route) == ("POST", "/faults"):
        return 200, _add_fault(emulator, body)
    if (method, route) == ("POST", "/clock"):
        emulator.limiter.advance(float(body["advance"]))
        return 200, {"advanced": float(body["advance"])}
    if (method, route) == ("POST", "/rate_limit"):
        emulator.limiter.limit = int(body.get("limit", emulator.limiter.limit))
        emulator.limiter.window = float(body.get("window", emulator.limiter.window))
        return 200, {"limit": emulator.limiter.limit, "window": emulator.limiter.window}
    if (method, route) == ("POST", "/tunnel_health"):
        return 200, _tunnel_health(state, body)
    if (method, route) == ("POST", "/pages_domain"):
        return 200, _pages_domain(state, body)
    raise ApiError(404, 7000, f"no control endpoint {method} {PREFIX}{route}")


def _add_fault(emulator: CloudflareEmulator, body: JsonDict) -> JsonDict:
    fault = Fault.from_json(body)
    immediate = fault.kind == "dashboard_edit_tunnel" and not (fault.method or fault.path)
    if immediate:
        with emulator.state.lock:
            version = apply_dashboard_edit(emulator.state, fault)
        fault.fired = 1
        return {**fault.to_json(), "version": version}
    return emulator.faults.add(fault).to_json()


def _tunnel_health(state: EmulatorState, body: JsonDict) -> JsonDict:
    with state.lock:
        tunnel_id = body.get("tunnel_id") or next(iter(state.tunnels), "")
        tunnel = state.tunnels.get(tunnel_id)
        if tunnel is None:
            raise ApiError(404, 1003, f"no tunnel {tunnel_id!r}")
        count = int(body.get("connections", len(tunnel["connections"])))
        tunnel["connections"] = [connection(index) for index in range(count)]
        tunnel["status"] = body.get("status") or ("healthy" if count else "down")
        return {"id": tunnel["id"], "status": tunnel["status"], "connections": count}


def _pages_domain(state: EmulatorState, body: JsonDict) -> JsonDict:
    with state.lock:
        project = state.projects.get(str(body.get("project")))
        domain = (project or {}).get("domains", {}).get(str(body.get("domain", "")).lower())
        if domain is None:
            raise ApiError(404, 8000018, f"no domain {body.get('domain')!r} on that project")
        status = str(body["status"])
        domain["status"] = status
        domain["validation_data"]["status"] = status
        domain["verification_data"]["status"] = status
        domain.pop("revalidating", None)
        return {"name": domain["name"], "status": status}
