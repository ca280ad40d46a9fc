"""WAF rulesets, zone settings, tunnel configurations and Pages domains in the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cloudflare
import pytest
from tests.emulators.cloudflare.defaults import PAGES_PROJECT, TUNNEL_ID
from tests.emulators.cloudflare.fixture import Emulator, start_emulator

PHASE = "http_request_firewall_custom"
CATCH_ALL = {"service": "http_status:404"}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    running = start_emulator()
    try:
        yield running
    finally:
        running.stop()


def _rules(count: int, expression: str = "ip.src eq 192.0.2.1") -> list[dict[str, Any]]:
    return [
        {"action": "block", "expression": expression, "ref": f"homeport:r{index}"}
        for index in range(count)
    ]


def _put(client: cloudflare.Cloudflare, zone_id: str, rules: list[dict[str, Any]]) -> Any:
    # The SDK types this answer Union[Ruleset, object] and hands back the plain dict.
    return client.rulesets.phases.update(
        ruleset_phase=PHASE,
        zone_id=zone_id,
        rules=rules,  # type: ignore[arg-type]
    )


def _code(error: cloudflare.APIStatusError) -> int:
    assert isinstance(error.body, dict)
    return int(error.body["errors"][0]["code"])


def test_the_waf_entrypoint_is_a_404_10003_until_a_put_creates_it(emulator: Emulator) -> None:
    client = emulator.client()
    zone_id = emulator.zone_id("elkhair.tech")
    with pytest.raises(cloudflare.NotFoundError) as missing:
        client.rulesets.phases.get(ruleset_phase=PHASE, zone_id=zone_id)
    assert _code(missing.value) == 10003
    created = _put(client, zone_id, _rules(2))
    assert created["version"] == "1"
    assert [rule["ref"] for rule in created["rules"]] == ["homeport:r0", "homeport:r1"]
    assert all(len(rule["id"]) == 32 for rule in created["rules"])


def test_a_put_replaces_the_whole_rule_list_and_bumps_the_version(emulator: Emulator) -> None:
    client = emulator.client()
    zone_id = emulator.zone_id("elkhair.tech")
    kept = _put(client, zone_id, _rules(3))["rules"][1]
    second = _put(client, zone_id, [{k: kept[k] for k in ("id", "action", "expression", "ref")}])
    assert second["version"] == "2"
    assert [(rule["id"], rule["ref"]) for rule in second["rules"]] == [(kept["id"], "homeport:r1")]
    read = client.rulesets.phases.get(ruleset_phase=PHASE, zone_id=zone_id)
    assert [(rule.id, rule.ref) for rule in read.rules] == [(kept["id"], "homeport:r1")]


@pytest.mark.parametrize(("plan", "limit"), [("free", 5), ("pro", 20)])
def test_the_custom_rule_count_is_capped_by_plan(plan: str, limit: int) -> None:
    with start_emulator(plan=plan) as emulator:
        client = emulator.client()
        zone_id = emulator.zone_id("elkhair.tech")
        with pytest.raises(cloudflare.BadRequestError) as refused:
            _put(client, zone_id, _rules(limit + 1))
        assert f"{limit + 1} out of {limit}" in str(refused.value)
        assert len(_put(client, zone_id, _rules(limit))["rules"]) == limit


def test_the_regex_matches_operator_needs_a_paid_plan() -> None:
    regex = _rules(1, 'http.request.uri.path matches "^/wp-"')
    with start_emulator(plan="free") as free, start_emulator(plan="pro") as pro:
        with pytest.raises(cloudflare.BadRequestError, match="regex"):
            _put(free.client(), free.zone_id("elkhair.tech"), regex)
        done = _put(pro.client(), pro.zone_id("elkhair.tech"), regex)
    assert len(done["rules"]) == 1


def test_settings_are_edited_one_by_one_unless_not_editable(emulator: Emulator) -> None:
    client = emulator.client()
    zone_id = emulator.zone_id("elkhair.tech")
    before = client.zones.settings.get(setting_id="ssl", zone_id=zone_id)
    edited = client.zones.settings.edit(setting_id="ssl", zone_id=zone_id, value="strict")
    assert before is not None and edited is not None
    assert (before.value, edited.value, edited.editable) == ("full", "strict", True)
    assert edited.modified_on is not None and before.modified_on is not None
    assert edited.modified_on > before.modified_on
    waf = client.zones.settings.get(setting_id="waf", zone_id=zone_id)
    assert waf is not None and waf.editable is False
    with pytest.raises(cloudflare.BadRequestError):
        client.zones.settings.edit(setting_id="waf", zone_id=zone_id, value="on")
    with pytest.raises(cloudflare.BadRequestError):
        client.zones.settings.edit(setting_id="min_tls_version", zone_id=zone_id, value="1.9")


def test_a_tunnel_configuration_put_replaces_it_whole_and_bumps_the_version(
    emulator: Emulator,
) -> None:
    configs = emulator.client().zero_trust.tunnels.cloudflared.configurations
    account = emulator.account_id
    ingress = [{"hostname": "jobs.elkhair.tech", "service": "http://192.168.1.150:80"}, CATCH_ALL]
    updated = configs.update(tunnel_id=TUNNEL_ID, account_id=account, config={"ingress": ingress})  # type: ignore[typeddict-item]
    assert updated is not None and updated.version == 2
    current = configs.get(tunnel_id=TUNNEL_ID, account_id=account)
    assert current is not None and current.config is not None and current.config.ingress
    assert [rule.hostname for rule in current.config.ingress] == ["jobs.elkhair.tech", None]
    raw = emulator.control.state()["tunnels"][0]["config"]
    assert raw["ingress"][0]["originRequest"] == {} and raw["originRequest"] == {}


def test_a_configuration_without_a_final_catch_all_is_refused(emulator: Emulator) -> None:
    configs = emulator.client().zero_trust.tunnels.cloudflared.configurations
    only_host = {"ingress": [{"hostname": "jobs.elkhair.tech", "service": "http://x:80"}]}
    with pytest.raises(cloudflare.BadRequestError, match="last ingress rule must match all"):
        configs.update(tunnel_id=TUNNEL_ID, account_id=emulator.account_id, config=only_host)  # type: ignore[arg-type]
    current = configs.get(tunnel_id=TUNNEL_ID, account_id=emulator.account_id)
    assert current is not None and current.version == 1


def test_a_dashboard_edit_moves_the_version_between_read_and_write(emulator: Emulator) -> None:
    configs = emulator.client().zero_trust.tunnels.cloudflared.configurations
    emulator.control.add_fault("dashboard_edit_tunnel", method="PUT", path="/configurations$")
    seen = configs.get(tunnel_id=TUNNEL_ID, account_id=emulator.account_id)
    written = configs.update(
        tunnel_id=TUNNEL_ID, account_id=emulator.account_id, config={"ingress": [CATCH_ALL]}
    )
    assert seen is not None and written is not None
    assert (seen.version, written.version) == (1, 3)
    assert emulator.control.dashboard_edit_tunnel() == 4


def test_tunnel_health_follows_its_connections(emulator: Emulator) -> None:
    tunnels = emulator.client().zero_trust.tunnels.cloudflared
    emulator.control.set_tunnel_health(connections=0)
    down = tunnels.get(tunnel_id=TUNNEL_ID, account_id=emulator.account_id)
    assert (down.status, down.connections) == ("down", [])
    listed = list(tunnels.list(account_id=emulator.account_id, is_deleted=False))
    assert [tunnel.id for tunnel in listed] == [TUNNEL_ID]


def test_pages_project_and_its_active_custom_domains(emulator: Emulator) -> None:
    pages = emulator.client().pages.projects
    project = pages.get(project_name=PAGES_PROJECT, account_id=emulator.account_id)
    assert project.subdomain == "landing-backup.pages.dev"
    domains = list(pages.domains.list(project_name=PAGES_PROJECT, account_id=emulator.account_id))
    assert {(d.name, d.status) for d in domains} == {
        ("elkhair.tech", "active"), ("www.elkhair.tech", "active"), ("dev.elkhair.tech", "active"),
    }  # fmt: skip


def test_patching_a_domain_retriggers_validation(emulator: Emulator) -> None:
    domains = emulator.client().pages.projects.domains
    emulator.control.set_pages_domain(PAGES_PROJECT, "www.elkhair.tech", "deactivated")
    where = {"project_name": PAGES_PROJECT, "account_id": emulator.account_id}
    before = domains.get("www.elkhair.tech", **where)
    retried = domains.edit("www.elkhair.tech", **where)
    after = domains.get("www.elkhair.tech", **where)
    assert before is not None and retried is not None and after is not None
    assert (before.status, retried.status, after.status) == ("deactivated", "pending", "active")
