"""``/zones``, ``/zones/{zone_id}/settings`` and ``/zones/{zone_id}/rulesets`` (WAF rules)."""

from __future__ import annotations

import re
from typing import Any

from tests.emulators.cloudflare.api import ApiError, JsonDict, Reply, paginate, success
from tests.emulators.cloudflare.call import Call
from tests.emulators.cloudflare.clock import new_id
from tests.emulators.cloudflare.settings import edit_setting
from tests.emulators.cloudflare.state import build_ruleset, zone_view

RULE_LIMITS = {"http_request_firewall_custom": {"free": 5, "pro": 20}}
REGEX_OPERATOR = re.compile(r"\bmatches\b|\s~\s")
ACTIONS = frozenset(
    {
        "block",
        "challenge",
        "js_challenge",
        "managed_challenge",
        "log",
        "skip",
        "execute",
        "rewrite",
        "redirect",
        "route",
        "score",
        "set_config",
        "serve_error",
        "compress_response",
        "set_cache_settings",
    }
)


def _name_matches(name: str, wanted: str) -> bool:
    op, sep, value = wanted.partition(":")
    if not sep:
        return name == wanted.lower()
    value = value.lower()
    return {
        "equal": name == value,
        "not_equal": name != value,
        "starts_with": name.startswith(value),
        "ends_with": name.endswith(value),
        "contains": value in name,
    }.get(op, name == wanted.lower())


def list_zones(call: Call) -> JsonDict:
    """Zones the token may see, filtered by ``name`` (with ``contains:`` etc.) and ``status``."""
    visible = call.visible_zones
    zones = [z for z in call.state.zones.values() if visible is None or z["name"] in visible]
    if "name" in call.query:
        zones = [z for z in zones if _name_matches(z["name"], call.query["name"])]
    if "status" in call.query:
        zones = [z for z in zones if z["status"] == call.query["status"]]
    if call.query.get("account.id", call.state.account["id"]) != call.state.account["id"]:
        zones = []
    zones.sort(key=lambda z: str(z["name"]))
    return paginate([zone_view(z) for z in zones], call.query, 20, 5, 50)


def get_zone(call: Call) -> JsonDict:
    """One zone by id."""
    return success(zone_view(call.zone))


def list_page_rules(call: Call) -> JsonDict:
    """Page rules: the emulator holds none (they only matter to octoDNS's provider)."""
    return success([])


def list_settings(call: Call) -> JsonDict:
    """Every setting of the zone, each with ``editable`` and ``modified_on``."""
    return success(list(call.zone["settings"].values()))


def get_setting(call: Call) -> JsonDict:
    """One setting."""
    setting = call.zone["settings"].get(call.params["setting_id"])
    if setting is None:
        raise ApiError(404, 1003, f"Invalid or missing zone setting: {call.params['setting_id']}")
    return success(setting)


def patch_setting(call: Call) -> JsonDict:
    """``{"value": ...}`` for one setting; refused when the plan makes it not editable."""
    return success(
        edit_setting(call.zone["settings"], call.params["setting_id"], call.json_object())
    )


def patch_settings(call: Call) -> JsonDict:
    """The bulk form ``{"items": [{"id", "value"}]}``: all or nothing."""
    items: Any = call.json_object().get("items")
    if not isinstance(items, list):
        raise ApiError(400, 1007, "items: must be a list of settings")
    working = {key: dict(value) for key, value in call.zone["settings"].items()}
    edited = [edit_setting(working, str(item.get("id")), item) for item in items]
    call.zone["settings"] = working
    return success(edited)


def _validate_rules(rules: Any, phase: str, plan: str) -> None:
    if not isinstance(rules, list):
        raise ApiError(400, 20021, "rules: must be a list")
    limit = RULE_LIMITS.get(phase, {}).get(plan)
    if limit is not None and len(rules) > limit:
        raise ApiError(
            400,
            20217,
            f"exceeded maximum number of rules in the phase {phase}: {len(rules)} out of {limit}",
        )
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or rule.get("action") not in ACTIONS:
            raise ApiError(400, 20021, f"rules[{index}].action: must be one of the rule actions")
        expression = rule.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            raise ApiError(400, 20021, f"rules[{index}].expression: must not be empty")
        if plan == "free" and REGEX_OPERATOR.search(expression):
            raise ApiError(
                400,
                20120,
                f"rules[{index}].expression: not entitled to use the regex 'matches' operator; "
                "a Pro plan or above is required",
            )


def _entrypoint(zone: JsonDict, phase: str) -> JsonDict | None:
    return next((r for r in zone["rulesets"].values() if r.get("phase") == phase), None)


def _ruleset(call: Call) -> JsonDict:
    ruleset: JsonDict | None = call.zone["rulesets"].get(call.params["ruleset_id"])
    if ruleset is None:
        raise ApiError(404, 10003, f"could not find ruleset {call.params['ruleset_id']}")
    return ruleset


def get_entrypoint(call: Call) -> JsonDict:
    """The phase's entrypoint ruleset, or 404 with code 10003 before one exists."""
    phase = call.params["phase"]
    ruleset = _entrypoint(call.zone, phase)
    if ruleset is None:
        raise ApiError(404, 10003, f"could not find entrypoint ruleset in the {phase} phase")
    return success(ruleset)


def put_entrypoint(call: Call) -> JsonDict:
    """Replace the phase's whole rule list (creating the entrypoint if needed); bump ``version``."""
    phase = call.params["phase"]
    body = call.json_object()
    _validate_rules(body.get("rules", []), phase, call.zone["plan"])
    previous = _entrypoint(call.zone, phase)
    ruleset = build_ruleset({"name": "default", **body, "phase": phase}, previous)
    call.zone["rulesets"][ruleset["id"]] = ruleset
    return success(ruleset)


def list_rulesets(call: Call) -> JsonDict:
    """Every ruleset of the zone, without their rules."""
    views = [{k: v for k, v in r.items() if k != "rules"} for r in call.zone["rulesets"].values()]
    return success(views)


def create_ruleset(call: Call) -> JsonDict:
    """A new zone ruleset; a phase has at most one (its entrypoint)."""
    body = call.json_object()
    phase = str(body.get("phase", ""))
    if body.get("kind") != "zone" or not phase:
        raise ApiError(400, 20021, "kind must be 'zone' and phase is required")
    if _entrypoint(call.zone, phase) is not None:
        raise ApiError(400, 20021, f"a ruleset of kind zone already exists for phase {phase}")
    _validate_rules(body.get("rules", []), phase, call.zone["plan"])
    ruleset = build_ruleset({**body, "id": new_id()}, None)
    call.zone["rulesets"][ruleset["id"]] = ruleset
    return success(ruleset)


def get_ruleset(call: Call) -> JsonDict:
    """One ruleset with its rules."""
    return success(_ruleset(call))


def put_ruleset(call: Call) -> JsonDict:
    """Replace a ruleset's rules; bumps ``version``."""
    previous = _ruleset(call)
    body = call.json_object()
    _validate_rules(body.get("rules", []), previous["phase"], call.zone["plan"])
    ruleset = build_ruleset({**body, "phase": previous["phase"]}, previous)
    call.zone["rulesets"][ruleset["id"]] = ruleset
    return success(ruleset)


def delete_ruleset(call: Call) -> Reply:
    """Delete a ruleset: 204 and no body, as live."""
    del call.zone["rulesets"][_ruleset(call)["id"]]
    return Reply(204, None)


def _replace_rules(call: Call, previous: JsonDict, rules: list[JsonDict]) -> JsonDict:
    _validate_rules(rules, previous["phase"], call.zone["plan"])
    ruleset = build_ruleset({**previous, "rules": rules}, previous)
    call.zone["rulesets"][ruleset["id"]] = ruleset
    return success(ruleset)


def create_rule(call: Call) -> JsonDict:
    """Append one rule to a ruleset."""
    previous = _ruleset(call)
    return _replace_rules(call, previous, [*previous["rules"], call.json_object()])


def _rule_index(call: Call, ruleset: JsonDict) -> int:
    for index, rule in enumerate(ruleset["rules"]):
        if rule["id"] == call.params["rule_id"]:
            return index
    raise ApiError(404, 10003, f"could not find rule {call.params['rule_id']}")


def patch_rule(call: Call) -> JsonDict:
    """Change one rule's fields."""
    previous = _ruleset(call)
    index = _rule_index(call, previous)
    rules = list(previous["rules"])
    rules[index] = {**rules[index], **call.json_object(), "id": rules[index]["id"]}
    return _replace_rules(call, previous, rules)


def delete_rule(call: Call) -> JsonDict:
    """Remove one rule."""
    previous = _ruleset(call)
    index = _rule_index(call, previous)
    return _replace_rules(
        call, previous, previous["rules"][:index] + previous["rules"][index + 1 :]
    )
