"""WAF rules within what the zone's plan allows: Cloudflare refuses the rest."""

from __future__ import annotations

import re
from collections.abc import Iterator

from homeport.doctor import Finding, check, finding
from homeport.model import LoadedPlatform

PLAN_RULE_LIMITS = {"free": 5, "pro": 20, "business": 100, "enterprise": 1000}
_STRING = re.compile(r'r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"')
_REGEX_OPERATOR = re.compile(r"\bmatches\b|~")


def uses_regex(expression: str) -> bool:
    """True when a rule expression uses the regex operator (``matches`` or ``~``)."""
    return bool(_REGEX_OPERATOR.search(_STRING.sub('""', expression)))


@check("waf-rule-limit")
def waf_rules_within_plan(loaded: LoadedPlatform) -> Iterator[Finding]:
    """A zone holds at most its plan's number of custom rules."""
    edge = loaded.platform.edge
    if edge is None:
        return
    for zone, body in edge.zones.items():
        limit = PLAN_RULE_LIMITS[body.plan]
        if len(body.waf) <= limit:
            continue
        yield finding(
            loaded,
            ("edge", "zones", zone, "waf", limit),
            severity="warning",
            check_id="waf-rule-limit",
            message=f"zone {zone} has {len(body.waf)} WAF rules but the {body.plan} plan "
            f"allows {limit}; Cloudflare refuses the whole rule list",
            fix="merge rules with 'or' in one expression, or upgrade the zone's plan",
        )


@check("waf-regex-free")
def waf_regex_needs_plan(loaded: LoadedPlatform) -> Iterator[Finding]:
    """The Free plan has no regex operator: Cloudflare refuses a rule that uses it."""
    edge = loaded.platform.edge
    if edge is None:
        return
    for zone, body in edge.zones.items():
        if body.plan != "free":
            continue
        for index, rule in enumerate(body.waf):
            if not uses_regex(rule.expression):
                continue
            yield finding(
                loaded,
                ("edge", "zones", zone, "waf", index, "expression"),
                severity="warning",
                check_id="waf-regex-free",
                message=f"WAF rule '{rule.name}' uses the regex operator, which the "
                f"Free plan of zone {zone} does not allow",
                fix="use contains, starts_with or 'in {...}' instead, or upgrade the plan",
            )
