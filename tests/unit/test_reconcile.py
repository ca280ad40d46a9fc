"""The shared reconciler shape: plans that tell the truth, and the gate before apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeport.reconcile import (
    ApplyResult,
    Change,
    ChecksumMismatchError,
    DeclinedError,
    Journal,
    LockHeldError,
    Plan,
    Unrealisable,
    UnsafePlanError,
    gate_apply,
    local_lock,
)


def test_a_plan_with_only_unrealisable_items_is_drift_and_never_says_matches() -> None:
    plan = Plan.build("dns", "pihole", unrealisable=[Unrealisable("record", "a.x", "no cert")])
    assert plan.drift
    assert "matches" not in plan.summary()
    assert "1 desired but not possible" in plan.summary()


def test_an_empty_plan_says_matches() -> None:
    plan = Plan.build("dns", "pihole", left_alone=2)
    assert not plan.drift
    assert plan.summary() == "No changes: pihole matches the file; 2 left alone (not homeport's)"


def test_changes_sort_deletes_first_and_the_checksum_covers_the_basis() -> None:
    create = Change("create", "record", "b", after={"v": 1})
    delete = Change("delete", "record", "a", before={"v": 0})
    one = Plan.build("dns", "t", [create, delete], basis="x")
    assert [c.kind for c in one.changes] == ["delete", "create"]
    assert one.checksum != Plan.build("dns", "t", [create, delete], basis="y").checksum
    assert one.checksum == Plan.build("dns", "t", [delete, create], basis="x").checksum


def test_the_gate_checks_the_whole_checksum_then_safety_then_asks() -> None:
    plan = Plan.build("dns", "t", [Change("create", "record", "a")])
    with pytest.raises(ChecksumMismatchError):
        gate_apply(plan, checksum=plan.checksum[:12], yes=True, force=False, confirm=None)
    with pytest.raises(UnsafePlanError) as refused:
        gate_apply(plan, checksum=None, yes=True, force=False, confirm=None, unsafe_reasons=["x"])
    assert refused.value.exit_code == 3
    gate_apply(plan, checksum=None, yes=True, force=True, confirm=None, unsafe_reasons=["x"])
    with pytest.raises(DeclinedError):
        gate_apply(plan, checksum=None, yes=False, force=False, confirm=lambda _: False)
    with pytest.raises(DeclinedError):
        gate_apply(plan, checksum=None, yes=False, force=False, confirm=None)
    asked: list[Plan] = []
    gate_apply(
        plan,
        checksum=plan.checksum,
        yes=False,
        force=False,
        confirm=lambda p: asked.append(p) is None,
    )
    assert asked == [plan]


def test_apply_result_says_nothing_changed_only_when_nothing_was_written() -> None:
    assert ApplyResult().summary("t") == "nothing was changed on t"
    assert ApplyResult(written=2).summary("t") == "applied 2 changes to t"


def test_journal_is_private_and_listed_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "dns")
    first = journal.write({"n": 1})
    journal.write({"n": 2})
    assert first.stat().st_mode & 0o777 == 0o600
    assert [journal.read(p)["n"] for p in journal.entries()] == [1, 2]


def test_a_second_holder_of_the_local_lock_is_refused_with_the_first_pid(tmp_path: Path) -> None:
    lock = tmp_path / "apply.lock"
    with local_lock(lock, "the account"):
        held_twice = local_lock(lock, "the account")
        with pytest.raises(LockHeldError, match="pid"):
            held_twice.__enter__()
    with local_lock(lock, "the account"):
        pass
