"""``homeport edge`` and ``homeport failover`` as a user runs them, against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.emulators.cloudflare.fixture import Emulator
from tests.support import edge as support
from tests.support.edge import (
    TUNNEL_TARGET,
    api,
    apply_file,
    edit_platform,
    homeport,
    live,
    plan_for,
)

shared_emulator = support.shared_emulator
emulator = support.emulator
platform_dir = support.platform_dir


def test_example_edge_goes_from_empty_through_apply_to_an_empty_plan(
    emulator: Emulator, platform_dir: Path
) -> None:
    first = homeport(emulator, "edge", "plan", "-f", str(platform_dir), "--exit-code")
    assert first.returncode == 2, first.stderr
    assert "+ create dns     jobs.elkhair.tech CNAME" in first.stdout
    assert "Plan: 18 to create, 7 to update, 0 to delete." in first.stdout

    applied = homeport(emulator, "edge", "apply", "-f", str(platform_dir), "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "Applied: 18 created, 7 updated, 0 deleted." in applied.stdout
    journal = next((platform_dir / ".homeport" / "edge-journal").glob("*.json"))
    assert str(journal) in applied.stdout
    batches = emulator.control.requests(method="POST", path=r"/dns_records/batch$")
    assert len([b for b in batches if b["body"].get("posts")]) == 2  # one per zone

    second = homeport(emulator, "edge", "plan", "-f", str(platform_dir), "--exit-code")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "No changes: the edge matches the file." in second.stdout
    assert live(emulator)["tunnel"][-1] == {"service": "http_status:404"}


def test_adding_a_subdomain_plans_exactly_its_creates(
    emulator: Emulator, platform_dir: Path
) -> None:
    apply_file(emulator, platform_dir)

    def add_api(data: dict[str, Any]) -> None:
        zone = data["edge"]["zones"]["elkhair.tech"]
        zone["records"].append(
            {"name": "api", "type": "CNAME", "content": TUNNEL_TARGET, "proxied": True}
        )

    edit_platform(platform_dir, add_api)
    result = homeport(emulator, "edge", "plan", "-f", str(platform_dir), "--json", "--exit-code")
    assert result.returncode == 2
    plan = json.loads(result.stdout)
    assert [(c["kind"], c["key"]) for c in plan["changes"]] == [
        ("create", "api.elkhair.tech CNAME")
    ]
    assert plan["changes"][0]["after"]["comment"] == "homeport: managed"


def test_the_safety_threshold_refuses_a_big_plan_unless_forced(
    emulator: Emulator, platform_dir: Path
) -> None:
    apply_file(emulator, platform_dir)
    before = live(emulator)

    def repoint(data: dict[str, Any]) -> None:
        records = data["edge"]["zones"]["elkhair.tech"]["records"]
        for record in records[:4]:  # 4 of the zone's 10 owned records: 40 %
            record["content"] = "elsewhere.example.net"

    edit_platform(platform_dir, repoint)
    plan = homeport(emulator, "edge", "plan", "-f", str(platform_dir))
    assert plan.returncode == 3
    assert "updates or deletes 4 of the 10 records homeport owns (40%" in plan.stderr
    apply = homeport(emulator, "edge", "apply", "-f", str(platform_dir), "--yes")
    assert apply.returncode == 3
    assert live(emulator) == before


def test_any_ns_change_is_refused(emulator: Emulator, platform_dir: Path) -> None:
    def delegate(data: dict[str, Any]) -> None:
        data["edge"]["zones"]["eelkhair.net"]["records"].append(
            {"name": "lab", "type": "NS", "content": "ns1.example.net"}
        )

    edit_platform(platform_dir, delegate)
    result = homeport(emulator, "edge", "apply", "-f", str(platform_dir), "--yes")
    assert result.returncode == 3
    assert "changes NS records (lab.eelkhair.net NS)" in result.stderr
    assert emulator.control.requests(method="POST") == []


def test_a_checksum_mismatch_is_refused_and_the_reviewed_one_applies(
    emulator: Emulator, platform_dir: Path
) -> None:
    reviewed = json.loads(
        homeport(emulator, "edge", "plan", "-f", str(platform_dir), "--json").stdout
    )
    emulator.control.dashboard_edit_tunnel()  # the world moved since the review
    stale = homeport(
        emulator,
        "edge",
        "apply",
        "-f",
        str(platform_dir),
        "--yes",
        "--checksum",
        reviewed["checksum"],
    )
    assert stale.returncode == 1
    assert "changed since the plan was reviewed; nothing was changed" in stale.stderr
    assert emulator.control.requests(method="POST") == []
    with api(emulator) as client:
        fresh = plan_for(client, platform_dir)[2].checksum
    ok = homeport(emulator, "edge", "apply", "-f", str(platform_dir), "--yes", "--checksum", fresh)
    assert ok.returncode == 0, ok.stderr


def test_apply_refuses_when_the_tunnel_config_moved_after_the_plan(
    emulator: Emulator, platform_dir: Path
) -> None:
    # the dashboard edit lands between apply's plan (first GET) and its version check (second)
    emulator.control.add_fault(
        "dashboard_edit_tunnel", method="GET", path=r"/configurations$", after=1
    )
    result = homeport(emulator, "edge", "apply", "-f", str(platform_dir), "--yes")
    assert result.returncode == 1
    assert "configuration changed since the plan (version 1 -> 2)" in result.stderr
    assert emulator.control.requests(method="PUT") == []
    assert emulator.control.requests(method="POST", path=r"/dns_records") == []


def test_apply_asks_and_a_no_changes_nothing(emulator: Emulator, platform_dir: Path) -> None:
    result = homeport(emulator, "edge", "apply", "-f", str(platform_dir), stdin="n\n")
    assert result.returncode == 1
    assert "Apply these changes to Cloudflare?" in result.stdout
    assert "nothing was changed" in result.stderr
    writes = [r for r in emulator.control.requests() if r["method"] != "GET"]
    assert writes == []


def test_rollback_restores_the_pre_images(emulator: Emulator, platform_dir: Path) -> None:
    state = emulator.control.state()
    zone = next(z for z in state["zones"] if z["name"] == "elkhair.tech")
    zone["records"] = [
        {"name": "www.elkhair.tech", "type": "A", "content": "192.0.2.1", "ttl": 300,
         "comment": "homeport: managed"},
        {"name": "old.elkhair.tech", "type": "A", "content": "192.0.2.2",
         "comment": "homeport: managed"},
        {"name": "mine.elkhair.tech", "type": "TXT", "content": "hand made"},
    ]  # fmt: skip
    zone["settings"] = {"ssl": "flexible"}
    emulator.control.load_state(state)
    before = live(emulator)

    def www_is_a_cname(data: dict[str, Any]) -> None:
        records = data["edge"]["zones"]["elkhair.tech"]["records"]
        records[:] = [r for r in records if r["name"] != "www"]
        records.append({"name": "www", "type": "A", "content": "192.0.2.9"})

    edit_platform(platform_dir, www_is_a_cname)
    applied = homeport(emulator, "edge", "apply", "-f", str(platform_dir), "--yes")
    assert applied.returncode == 0, applied.stderr
    assert live(emulator) != before
    journal = next((platform_dir / ".homeport" / "edge-journal").glob("*.json"))
    back = homeport(emulator, "edge", "rollback", str(journal), "--yes")
    assert back.returncode == 0, back.stderr
    assert live(emulator) == before


def test_failover_both_ways_idempotent_and_refused_when_the_tunnel_is_down(
    emulator: Emulator, platform_dir: Path
) -> None:
    apply_file(emulator, platform_dir)
    standby = homeport(emulator, "failover", "standby", "prod", "-f", str(platform_dir))
    assert standby.returncode == 0, standby.stderr
    assert "moved to standby: elkhair.tech, www.elkhair.tech" in standby.stdout
    assert "elkhair.tech -> landing-backup.pages.dev" in standby.stdout
    assert "deactivates a Pages custom domain" in standby.stderr
    assert len(emulator.control.requests(method="PATCH", path=r"/pages/projects/.*/domains/")) == 2

    again = homeport(emulator, "failover", "standby", "prod", "-f", str(platform_dir))
    assert "nothing to change: every hostname of prod already points at the standby" in again.stdout
    with api(emulator) as client:
        assert not plan_for(client, platform_dir)[2].has_changes, "the standby is not drift"

    emulator.control.set_tunnel_health(0)
    refused = homeport(emulator, "failover", "home", "prod", "-f", str(platform_dir))
    assert refused.returncode == 1
    assert "with 0 connections; start cloudflared first, or pass --force" in refused.stderr
    emulator.control.set_tunnel_health(2)
    home = homeport(emulator, "failover", "home", "both", "-f", str(platform_dir))
    assert home.returncode == 0, home.stderr
    assert f"www.elkhair.tech -> {TUNNEL_TARGET}" in home.stdout
    assert "moved to home: elkhair.tech, www.elkhair.tech" in home.stdout  # dev never left
    with api(emulator) as client:
        assert not plan_for(client, platform_dir)[2].has_changes


def test_failover_to_standby_is_refused_when_a_pages_domain_is_not_active(
    emulator: Emulator, platform_dir: Path
) -> None:
    emulator.control.set_pages_domain("landing-backup", "www.elkhair.tech", "pending")
    result = homeport(emulator, "failover", "standby", "prod", "-f", str(platform_dir))
    assert result.returncode == 1
    assert (
        "www.elkhair.tech on Pages project landing-backup is pending, not active" in result.stderr
    )


def test_import_of_a_hand_made_edge_then_plan_is_empty(emulator: Emulator, tmp_path: Path) -> None:
    state = emulator.control.state()
    zone = next(z for z in state["zones"] if z["name"] == "elkhair.tech")
    zone["records"] = [
        {"name": "elkhair.tech", "type": "CNAME", "content": TUNNEL_TARGET, "proxied": True},
        {"name": "_dmarc.elkhair.tech", "type": "TXT", "content": "v=DMARC1; p=none",
         "comment": "clicked in the dashboard"},
        {"name": "mail.elkhair.tech", "type": "MX", "content": "mx.example.net",
         "priority": 5},
        {"name": "static.elkhair.tech", "type": "A", "content": "192.0.2.7", "ttl": 3600},
    ]  # fmt: skip
    zone["rulesets"] = [
        {"phase": "http_request_firewall_custom", "kind": "zone", "name": "default",
         "rules": [{"expression": '(ip.src eq 192.0.2.66)', "action": "block",
                    "description": "Block the scraper"}]}
    ]  # fmt: skip
    zone["settings"] = {"ssl": "strict", "security_level": "high"}
    state["tunnels"][0]["config"] = {
        "ingress": [
            {"hostname": "elkhair.tech", "service": "http://192.168.1.150:80",
             "originRequest": {"noTLSVerify": True}},
            {"service": "http_status:404"},
        ]
    }  # fmt: skip
    emulator.control.load_state(state)
    platform = tmp_path / "homeport.yaml"
    platform.write_text("name: imported\n")
    imported = homeport(
        emulator, "edge", "import", "-f", str(platform), "--zone", "elkhair.tech",
        "--account-id", emulator.account_id, "--tunnel-id", state["tunnels"][0]["id"],
        "-o", str(tmp_path / "edge.yaml"),
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    text = (tmp_path / "edge.yaml").read_text()
    assert "comment: clicked in the dashboard" in text
    assert "name: block-the-scraper" in text
    platform.write_text("name: imported\n" + text)
    emulator.control.reset_requests()
    plan = homeport(emulator, "edge", "plan", "-f", str(platform), "--exit-code")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes: the edge matches the file" in plan.stdout
    assert "left alone (not homeport's)" in plan.stdout
    assert emulator.control.requests(method="POST") == []


def test_a_token_without_dns_write_is_named_before_any_change(
    emulator: Emulator, platform_dir: Path
) -> None:
    state = emulator.control.state()
    state["tokens"].insert(0, {"value": "read-only", "permissions": [
        "zone:read", "dns:read", "waf:read", "waf:write", "zone_settings:read",
        "zone_settings:write", "tunnel:read", "tunnel:write"]})  # fmt: skip
    emulator.control.load_state(state)
    env_token = emulator.token
    try:
        emulator.token = "read-only"
        result = homeport(emulator, "edge", "apply", "-f", str(platform_dir), "--yes")
    finally:
        emulator.token = env_token
    assert result.returncode == 1
    assert "cannot edit DNS records of" in result.stderr
    assert "Zone / DNS / Edit" in result.stderr
    assert "Traceback" not in result.stderr
    assert all(r["status"] >= 400 for r in emulator.control.requests(method="POST"))
