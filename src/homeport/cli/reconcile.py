"""What every reconciler's plan and apply commands share: options, printing, the prompt."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from homeport.cli.common import console, print_json
from homeport.reconcile import EXIT_CHANGES, Plan

ExitCodeOption = Annotated[
    bool,
    typer.Option("--exit-code", help="Exit 2 when the plan has changes or cannot be realised."),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Apply a plan the safety checks refuse.")
]
ChecksumOption = Annotated[
    str | None,
    typer.Option("--checksum", help="Apply only if the plan's checksum is this (from plan)."),
]


def show_plan(plan: Plan, *, as_json: bool, exit_code: bool) -> None:
    """Print the plan (text or JSON); with ``exit_code``, exit 2 when it drifts."""
    if as_json:
        print_json(plan.to_json())
    else:
        for line in plan.lines():
            console.print(line, markup=False, soft_wrap=True)
    if exit_code and plan.drift:
        raise typer.Exit(EXIT_CHANGES)


def ask(plan: Plan) -> bool:
    """The [y/N] prompt on the terminal, after the plan was printed."""
    for line in plan.lines():
        console.print(line, markup=False, soft_wrap=True)
    return typer.confirm(f"Apply this plan to {plan.target}?", default=False)


def prompt_or_none() -> object:
    """``ask`` when a person is at a terminal, else None (apply then needs --yes)."""
    return ask if sys.stdin.isatty() else None
