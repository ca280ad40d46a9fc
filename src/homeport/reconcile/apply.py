"""The gate before an apply writes: the reviewed checksum, the safety thresholds, the prompt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from homeport.reconcile.errors import ChecksumMismatchError, DeclinedError, UnsafePlanError
from homeport.reconcile.plan import Plan

Confirm = Callable[[Plan], bool]
"""Asks the person (the CLI's prompt); returns True to go on. ``--yes`` means it is not called."""


@dataclass
class ApplyResult:
    """What an apply did: ``written`` counts writes that reached the world."""

    written: int = 0
    messages: list[str] = field(default_factory=list)
    journal: str | None = None

    def summary(self, target: str) -> str:
        """'applied N changes to X' or 'nothing was changed on X': true to the writes."""
        if self.written == 0:
            return f"nothing was changed on {target}"
        noun = "change" if self.written == 1 else "changes"
        return f"applied {self.written} {noun} to {target}"


def gate_apply(
    plan: Plan,
    *,
    checksum: str | None,
    yes: bool,
    force: bool,
    confirm: Confirm | None,
    unsafe_reasons: Sequence[str] = (),
) -> None:
    """Raise unless ``plan`` may be applied now; returns only when every check passed.

    In order: ``--checksum`` must equal the plan's whole checksum (a plan reviewed earlier is
    applied only if the world still gives the same plan); safety reasons refuse with exit 3
    unless ``force``; then ``confirm`` is asked unless ``yes``. A prompt needs a terminal, so a
    caller without one passes ``confirm=None`` and must pass ``yes``.
    """
    if checksum is not None and checksum != plan.checksum:
        raise ChecksumMismatchError(
            f"the plan changed since it was reviewed: --checksum {checksum[:12]}… but the plan "
            f"now is {plan.checksum[:12]}…; run plan again and review it"
        )
    if unsafe_reasons and not force:
        raise UnsafePlanError(
            "refusing an unsafe plan: "
            + "; ".join(unsafe_reasons)
            + ". Review it, then pass --force"
        )
    if yes:
        return
    if confirm is None:
        raise DeclinedError("apply needs a yes: pass --yes (no terminal to ask on)")
    if not confirm(plan):
        raise DeclinedError("not applied: you said no; nothing was changed")
