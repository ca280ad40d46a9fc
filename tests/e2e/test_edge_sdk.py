"""The edge library through the real ``cloudflare`` SDK against the emulator, on a fake clock:
rate limits, 5xx half-way, refused batches, and what homeport does not own."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.emulators.cloudflare.fixture import Emulator
from tests.support import edge as support
from tests.support.edge import EXAMPLE, FakeClock, api, live, plan_for

from homeport.edge.apply import Applier
from homeport.edge.errors import CloudflareApiError, EdgeError, RateLimitedTooLong

shared_emulator = support.shared_emulator
emulator = support.emulator
platform_dir = support.platform_dir


def apply(emulator: Emulator, directory: Path, clock: FakeClock | None = None) -> list[str]:
    with api(emulator, clock) as client:
        desired, current, plan = plan_for(client, directory)
        return Applier(client, plan, desired, current).run(directory / ".homeport").warnings


def pending(emulator: Emulator, directory: Path) -> int:
    with api(emulator) as client:
        return len(plan_for(client, directory)[2].changes)


def test_a_429_with_retry_after_300_waits_on_the_clock_and_completes(
    emulator: Emulator, platform_dir: Path
) -> None:
    emulator.control.add_fault("429", retry_after=300, method="GET", path=r"/dns_records$")
    emulator.control.add_fault("429", retry_after=120, method="POST", path=r"/batch$")
    clock = FakeClock()
    apply(emulator, platform_dir, clock)
    assert clock.slept == [300.0, 120.0]
    assert pending(emulator, platform_dir) == 0


def test_a_wait_longer_than_five_minutes_is_refused_with_a_clear_error(
    emulator: Emulator, platform_dir: Path
) -> None:
    emulator.control.add_fault("429", retry_after=900, method="GET", path=r"/dns_records$")
    with pytest.raises(RateLimitedTooLong, match="asks to wait 900s, more than the 300s"):
        apply(emulator, platform_dir)


def test_ratelimit_headers_are_read(emulator: Emulator, platform_dir: Path) -> None:
    with api(emulator) as client:
        plan_for(client, platform_dir)
        assert client.budget.remaining is not None and client.budget.remaining < 1200
        dns_gets = [c for c in client.budget.calls if c.endswith("/dns_records")]
        assert len(dns_gets) == 2  # one page per zone: 5,000 records a page


def test_a_5xx_half_way_then_a_rerun_converges_with_nothing_lost(
    emulator: Emulator, platform_dir: Path
) -> None:
    state = emulator.control.state()
    for zone in state["zones"]:
        zone["records"] = [{"name": f"keep.{zone['name']}", "type": "TXT", "content": "by hand"}]
    emulator.control.load_state(state)
    # the second zone's batch fails: the first zone and the tunnel are already changed
    emulator.control.add_fault("500", method="POST", path=r"/dns_records/batch$", after=1)
    with pytest.raises(CloudflareApiError, match="answered 500"):
        apply(emulator, platform_dir)
    assert 0 < pending(emulator, platform_dir) < 25
    apply(emulator, platform_dir)
    assert pending(emulator, platform_dir) == 0
    for zone in ("elkhair.tech", "eelkhair.net"):
        kept = [r for r in live(emulator)[zone]["records"] if r[0] == f"keep.{zone}"]
        assert kept == [(f"keep.{zone}", "TXT", "by hand", False, 1, None, None)]


def test_a_refused_batch_is_retried_record_by_record_and_names_the_record(
    emulator: Emulator, platform_dir: Path
) -> None:
    emulator.control.add_fault("batch_fail", record_name="jobs.elkhair.tech", times=None)
    with pytest.raises(EdgeError, match=r"elkhair.tech: create jobs.elkhair.tech CNAME: .*400"):
        apply(emulator, platform_dir)
    names = {r[0] for r in live(emulator)["elkhair.tech"]["records"]}
    assert "dev.elkhair.tech" in names  # the records before it were applied
    assert "jobs.elkhair.tech" not in names


def test_a_setting_the_plan_cannot_change_is_skipped_with_a_warning(
    emulator: Emulator, platform_dir: Path
) -> None:
    def lock(data: dict[str, Any]) -> None:
        data["edge"]["zones"]["elkhair.tech"]["settings"]["waf"] = "on"

    support.edit_platform(platform_dir, lock)
    with api(emulator) as client:
        plan = plan_for(client, platform_dir)[2]
    assert any("waf is not editable on this zone's plan" in w for w in plan.warnings)
    apply(emulator, platform_dir)
    assert emulator.control.requests(method="PATCH", path=r"/settings/waf$") == []


def test_dns_changes_go_in_batches_of_200_on_free(emulator: Emulator, platform_dir: Path) -> None:
    def many(data: dict[str, Any]) -> None:
        records = data["edge"]["zones"]["eelkhair.net"]["records"]
        records += [{"name": f"h{i}", "type": "A", "content": "192.0.2.1"} for i in range(450)]

    support.edit_platform(platform_dir, many)
    apply(emulator, platform_dir)
    batches = emulator.control.requests(
        method="POST", path=r"/ee1ee1ee1ee1ee1ee1ee1ee1ee1ee1ee/dns_records/batch$"
    )
    assert [len(b["body"]["posts"]) for b in batches] == [200, 200, 55]


# Property: whatever the zones hold that homeport did not create survives every apply.

hand_made_record = st.tuples(
    st.sampled_from(["www", "jobs", "mail", "api", "txt", "_dmarc", "x.y"]),
    st.sampled_from(["A", "TXT", "AAAA", "MX"]),
    st.sampled_from(["a", "b"]),
)
hand_made_rule = st.tuples(
    st.sampled_from(["block-wp-probes", "mine", "scraper", "other"]),
    st.sampled_from(["(ip.src eq 192.0.2.1)", '(http.request.uri.path contains "/wp-login.php")']),
)
CONTENT = {"A": "192.0.2.{}", "AAAA": "2001:db8::{}", "TXT": "hand {}", "MX": "mx{}.example.net"}


def _record(zone: str, name: str, kind: str, variant: str) -> dict[str, Any]:
    content = CONTENT[kind].format(1 if variant == "a" else 2)
    out: dict[str, Any] = {"name": f"{name}.{zone}", "type": kind, "content": content}
    if kind == "MX":
        out["priority"] = 10
    return out


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(hand_made_record, max_size=6, unique=True),
    rules=st.lists(hand_made_rule, max_size=3, unique_by=lambda r: r[0]),
)
def test_records_and_rules_homeport_does_not_own_survive_every_apply(
    shared_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory,
    records: list[tuple[str, str, str]], rules: list[tuple[str, str]],
) -> None:  # fmt: skip
    state = shared_emulator.control.state()
    for zone in state["zones"]:
        zone["records"] = [_record(zone["name"], *r) for r in records]
        zone["rulesets"] = [
            {"phase": "http_request_firewall_custom", "kind": "zone", "name": "default",
             "rules": [{"ref": ref, "expression": expr, "action": "log"} for ref, expr in rules]}
        ]  # fmt: skip
    shared_emulator.control.reset(state)
    before = live(shared_emulator)
    directory = tmp_path_factory.mktemp("platform")
    (directory / "homeport.yaml").write_bytes(EXAMPLE.read_bytes())
    with contextlib.suppress(EdgeError):  # a hand-made record may block one of ours
        apply(shared_emulator, directory)
    after = live(shared_emulator)
    for zone in ("elkhair.tech", "eelkhair.net"):
        unowned = [
            r for r in before[zone]["records"] if not str(r[5] or "").startswith("homeport:")
        ]
        assert set(unowned) <= set(after[zone]["records"])
        assert [r for r in after[zone]["rules"] if not str(r[0]).startswith("homeport:")] == [
            r for r in before[zone]["rules"]
        ]


class EmulatorClock(FakeClock):
    """A fake clock that also moves the emulator's rate-limit clock: time passes for both."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__()
        self.emulator = emulator

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        self.emulator.control.advance_clock(seconds)


def test_a_token_at_its_budget_waits_for_the_window_then_completes(
    emulator: Emulator, platform_dir: Path
) -> None:
    emulator.control.set_rate_limit(8, window=300)
    clock = EmulatorClock(emulator)
    apply(emulator, platform_dir, clock)
    assert len(clock.slept) >= 2, "the budget of 8 ran out more than once, so homeport waited"
    assert all(0 < s <= 300 for s in clock.slept)
    emulator.control.set_rate_limit(1200)
    assert pending(emulator, platform_dir) == 0
