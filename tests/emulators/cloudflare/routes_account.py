"""``/accounts/{account_id}/cfd_tunnel...`` and ``/accounts/{account_id}/pages/projects...``."""

from __future__ import annotations

from tests.emulators.cloudflare.api import ApiError, JsonDict, paginate, success
from tests.emulators.cloudflare.call import Call
from tests.emulators.cloudflare.clock import new_uuid, timestamp
from tests.emulators.cloudflare.state import build_domain, normalise_tunnel_config

TUNNEL_PRIVATE = ("config", "config_version", "config_created_at")


def _tunnel(call: Call) -> JsonDict:
    tunnel = call.state.tunnels.get(call.params["tunnel_id"])
    if tunnel is None:
        raise ApiError(404, 1003, f"Tunnel {call.params['tunnel_id']} not found")
    return tunnel


def tunnel_view(tunnel: JsonDict) -> JsonDict:
    """A tunnel as the API shows it (status and connections; its configuration lives apart)."""
    return {
        key: value
        for key, value in tunnel.items()
        if key not in TUNNEL_PRIVATE and value is not None  # the contract has no nulls here
    }


def configuration_view(tunnel: JsonDict) -> JsonDict:
    """The remotely managed configuration with its ``version``."""
    return {
        "account_id": tunnel["account_tag"],
        "tunnel_id": tunnel["id"],
        "version": tunnel["config_version"],
        "config": tunnel["config"],
        "source": "cloudflare",
        "created_at": tunnel["config_created_at"],
    }


def list_tunnels(call: Call) -> JsonDict:
    """Tunnels filtered by name, uuid, status and is_deleted."""
    tunnels = list(call.state.tunnels.values())
    query = call.query
    if "name" in query:
        tunnels = [t for t in tunnels if t["name"] == query["name"]]
    if "uuid" in query:
        tunnels = [t for t in tunnels if t["id"] == query["uuid"]]
    if "status" in query:
        tunnels = [t for t in tunnels if t["status"] == query["status"]]
    if "is_deleted" in query:
        deleted = query["is_deleted"].lower() == "true"
        tunnels = [t for t in tunnels if (t["deleted_at"] is not None) == deleted]
    return paginate([tunnel_view(t) for t in tunnels], query, 20, 1, 1000)


def get_tunnel(call: Call) -> JsonDict:
    """One tunnel with ``status`` and ``connections``."""
    return success(tunnel_view(_tunnel(call)))


def create_tunnel(call: Call) -> JsonDict:
    """A new, never-run (``inactive``) tunnel."""
    body = call.json_object()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, 1001, "name: is required")
    if any(t["name"] == name and t["deleted_at"] is None for t in call.state.tunnels.values()):
        raise ApiError(409, 1013, "You already have a tunnel with this name.")
    now = timestamp()
    tunnel: JsonDict = {
        "id": new_uuid(),
        "account_tag": call.state.account["id"],
        "name": name,
        "created_at": now,
        "deleted_at": None,
        "status": "inactive",
        "tun_type": "cfd_tunnel",
        "remote_config": body.get("config_src") == "cloudflare",
        "connections": [],
        "conns_active_at": None,
        "conns_inactive_at": None,
        "metadata": {},
        "config": normalise_tunnel_config({"ingress": [{"service": "http_status:404"}]}),
        "config_version": 0,
        "config_created_at": now,
    }
    call.state.tunnels[tunnel["id"]] = tunnel
    return success(tunnel_view(tunnel))


def patch_tunnel(call: Call) -> JsonDict:
    """Rename a tunnel."""
    tunnel = _tunnel(call)
    name = call.json_object().get("name")
    if isinstance(name, str) and name:
        tunnel["name"] = name
    return success(tunnel_view(tunnel))


def delete_tunnel(call: Call) -> JsonDict:
    """Mark a tunnel deleted; refused while it has connections, as live."""
    tunnel = _tunnel(call)
    if tunnel["connections"]:
        raise ApiError(400, 1022, "Cannot delete a tunnel with active connections.")
    tunnel["deleted_at"] = timestamp()
    return success(tunnel_view(tunnel))


def get_configuration(call: Call) -> JsonDict:
    """The tunnel's configuration and its ``version``."""
    return success(configuration_view(_tunnel(call)))


def validate_ingress(config: object) -> None:
    """The live rules: a non-empty ingress list whose last rule catches everything."""
    if not isinstance(config, dict):
        raise ApiError(400, 1055, "config: must be an object")
    ingress = config.get("ingress")
    if not isinstance(ingress, list) or not ingress:
        raise ApiError(400, 1055, "config.ingress: at least one rule is required")
    for index, rule in enumerate(ingress):
        if not isinstance(rule, dict) or not isinstance(rule.get("service"), str):
            raise ApiError(400, 1055, f"config.ingress[{index}].service: is required")
    last = ingress[-1]
    if last.get("hostname") or last.get("path"):
        raise ApiError(
            400,
            1055,
            "Validation failed: The last ingress rule must match all URLs (i.e. it should not "
            "have a hostname or path filter)",
        )


def put_configuration(call: Call) -> JsonDict:
    """Replace the whole configuration and bump ``version``; refuse one without a catch-all."""
    tunnel = _tunnel(call)
    config = call.json_object().get("config")
    validate_ingress(config)
    assert isinstance(config, dict)
    tunnel["config"] = normalise_tunnel_config(config)
    tunnel["config_version"] += 1
    tunnel["config_created_at"] = timestamp()
    return success(configuration_view(tunnel))


def dashboard_edit(tunnel: JsonDict, config: JsonDict | None) -> int:
    """What an edit in the dashboard does: a new configuration version (same or new content)."""
    if config is not None:
        validate_ingress(config)
        tunnel["config"] = normalise_tunnel_config(config)
    tunnel["config_version"] += 1
    tunnel["config_created_at"] = timestamp()
    return int(tunnel["config_version"])


def _project(call: Call) -> JsonDict:
    project = call.state.projects.get(call.params["project_name"])
    if project is None:
        raise ApiError(
            404,
            8000007,
            "Project not found. The specified project name does not match any of your existing "
            "projects.",
        )
    return project


def project_view(project: JsonDict) -> JsonDict:
    """A Pages project with ``subdomain`` and its custom domain names."""
    view = {key: value for key, value in project.items() if key != "domains"}
    view["domains"] = [project["subdomain"], *project["domains"]]
    return view


def list_projects(call: Call) -> JsonDict:
    """Every Pages project of the account."""
    projects = [project_view(p) for p in call.state.projects.values()]
    return paginate(projects, call.query, 10, 1, 100)


def get_project(call: Call) -> JsonDict:
    """One Pages project."""
    return success(project_view(_project(call)))


def create_project(call: Call) -> JsonDict:
    """A new Pages project at ``<name>.pages.dev``."""
    body = call.json_object()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, 8000000, "name: is required")
    if name in call.state.projects:
        raise ApiError(409, 8000002, "A project with this name already exists.")
    project: JsonDict = {
        "id": new_uuid(),
        "name": name,
        "subdomain": f"{name}.pages.dev",
        "created_on": timestamp(),
        "production_branch": body.get("production_branch", "main"),
        "build_config": body.get("build_config", {}),
        "deployment_configs": body.get("deployment_configs", {"preview": {}, "production": {}}),
        "domains": {},
    }
    call.state.projects[name] = project
    return success(project_view(project))


def patch_project(call: Call) -> JsonDict:
    """Change a project's branch or build settings."""
    project = _project(call)
    body = call.json_object()
    for key in ("production_branch", "build_config", "deployment_configs"):
        if key in body:
            project[key] = body[key]
    return success(project_view(project))


def delete_project(call: Call) -> JsonDict:
    """Delete a project."""
    del call.state.projects[_project(call)["name"]]
    return success(None)


def domain_view(domain: JsonDict) -> JsonDict:
    """A custom domain as the API shows it."""
    return {key: value for key, value in domain.items() if key != "revalidating"}


def _domain(call: Call) -> JsonDict:
    domain: JsonDict | None = _project(call)["domains"].get(call.params["domain_name"].lower())
    if domain is None:
        raise ApiError(404, 8000018, "The specified domain was not found on this project.")
    return domain


def _settle(domain: JsonDict) -> JsonDict:
    """A validation re-triggered by PATCH completes by the next read."""
    if domain.pop("revalidating", False):
        _set_status(domain, "active")
    return domain


def _set_status(domain: JsonDict, status: str) -> None:
    domain["status"] = status
    domain["validation_data"]["status"] = status
    domain["verification_data"]["status"] = status


def list_domains(call: Call) -> JsonDict:
    """The project's custom domains with their status."""
    domains = [domain_view(_settle(d)) for d in _project(call)["domains"].values()]
    return success(domains)


def get_domain(call: Call) -> JsonDict:
    """One custom domain with its status."""
    return success(domain_view(_settle(_domain(call))))


def add_domain(call: Call) -> JsonDict:
    """Attach a custom domain; it starts ``pending`` and is validated by the next read."""
    project = _project(call)
    name = call.json_object().get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, 8000000, "name: is required")
    if name.lower() in project["domains"]:
        raise ApiError(409, 8000018, "The domain is already attached to this project.")
    domain = build_domain({"name": name, "status": "pending"})
    domain["revalidating"] = True
    project["domains"][domain["name"]] = domain
    return success(domain_view(domain))


def patch_domain(call: Call) -> JsonDict:
    """Re-trigger validation: ``pending`` now, ``active`` by the next read."""
    domain = _domain(call)
    _set_status(domain, "pending")
    domain["revalidating"] = True
    return success(domain_view(domain))


def delete_domain(call: Call) -> JsonDict:
    """Detach a custom domain."""
    del _project(call)["domains"][_domain(call)["name"]]
    return success(None)
