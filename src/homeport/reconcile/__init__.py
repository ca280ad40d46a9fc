"""The shape every reconciler shares: read current state, compute a plan (pure), apply it.

    Plan            a value: sorted changes, what cannot be realised, a checksum of both and of
                    the state it was planned against; prints, serialises, compares
    Change          one create, update or delete of one thing the subsystem owns
    Unrealisable    something desired that the plan cannot bring about (it is drift too)
    gate_apply      checksum, safety and confirmation, in that order, before anything is written
    Journal         pre-images written before the first write, so that a rollback has them
    ApplyResult     what was written; "nothing was changed" only when nothing was

Exit codes: 0 ok, 1 error, 2 a plan has changes (``--exit-code``), 3 refused as unsafe.
Each subsystem (edge, registry, deploy, secrets, dns, publish) builds its own ``Plan`` from these
pieces and hands ``gate_apply`` its own safety reasons; the CLI parses, prompts and prints.
"""

from __future__ import annotations

from homeport.reconcile.apply import ApplyResult, Confirm, gate_apply
from homeport.reconcile.errors import (
    EXIT_CHANGES,
    EXIT_UNSAFE,
    ChecksumMismatchError,
    DeclinedError,
    ReconcileError,
    UnsafePlanError,
)
from homeport.reconcile.journal import Journal
from homeport.reconcile.lock import LockHeldError, local_lock
from homeport.reconcile.plan import Change, Plan, Unrealisable

__all__ = [
    "EXIT_CHANGES",
    "EXIT_UNSAFE",
    "ApplyResult",
    "Change",
    "ChecksumMismatchError",
    "Confirm",
    "DeclinedError",
    "Journal",
    "LockHeldError",
    "Plan",
    "ReconcileError",
    "Unrealisable",
    "UnsafePlanError",
    "gate_apply",
    "local_lock",
]
