"""``homeport edge plan|apply|rollback|import``: the Cloudflare edge as code."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from homeport.cli.common import (
    FileOption,
    JsonOption,
    QuietOption,
    console,
    err_console,
    fail,
    load,
    print_json,
    reports_errors,
)
from homeport.edge.desired import desired_edge
from homeport.edge.diff import plan_edge
from homeport.edge.errors import ChecksumMismatch, EdgeError
from homeport.edge.plan import Plan
from homeport.edge.render import render_plan
from homeport.edge.safety import check_safety, unsafe_reasons
from homeport.edge.state import CurrentEdge, DesiredEdge
from homeport.errors import ConfigError
from homeport.model import LoadedPlatform
from homeport.model.edge import Edge

if TYPE_CHECKING:  # the SDK takes a second to import: only commands that call Cloudflare load it
    from homeport.edge.cloudflare import CloudflareApi

app = typer.Typer(
    name="edge",
    help="Reconcile Cloudflare (tunnel ingress, DNS, WAF, zone settings) to match the file.",
    no_args_is_help=True,
)

ZoneOption = Annotated[
    str | None, typer.Option("--zone", help="Only this zone (the tunnel is then left out).")
]
AdoptOption = Annotated[
    bool,
    typer.Option("--adopt", help="Take over records and rules in the file that exist unmarked."),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Apply even a plan the safety thresholds refuse.")
]


class ProgressClock:
    """Waits shown as a progress bar on stderr (rate limits can ask for minutes)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.reason = "waiting"

    def announce(self, seconds: float, reason: str) -> None:
        """Say why the next wait happens."""
        self.reason = reason
        err_console.print(f"{reason}: waiting {seconds:.0f}s before retrying", markup=False)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, ticking a progress bar."""
        columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err_console, transient=True, disable=self.quiet) as bar:
            task = bar.add_task(self.reason, total=seconds)
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                time.sleep(min(1.0, left))
                bar.update(task, completed=seconds - max(0.0, deadline - time.monotonic()))


def connect(quiet: bool = False) -> CloudflareApi:
    """The API client from the environment, with waits shown as progress."""
    from homeport.edge.cloudflare import CloudflareApi  # noqa: PLC0415

    clock = ProgressClock(quiet)
    return CloudflareApi.from_env(clock=clock, on_wait=clock.announce)


def edge_of(loaded: LoadedPlatform) -> Edge:
    """The file's edge section, or a clear error."""
    if loaded.platform.edge is None:
        raise EdgeError(f"{loaded.path}: the platform file has no edge: section; add one (or "
                        "run 'homeport edge import' to write it from what is live)")  # fmt: skip
    return loaded.platform.edge


@dataclass
class Session:
    """Everything a plan was computed from."""

    loaded: LoadedPlatform
    api: CloudflareApi
    desired: DesiredEdge
    current: CurrentEdge
    plan: Plan


def make_plan(file: Path | None, zone: str | None, adopt: bool, quiet: bool = False) -> Session:
    """Load the file, read Cloudflare, compute the plan."""
    loaded = load(file)
    desired = desired_edge(edge_of(loaded), only_zone=zone)
    if zone is not None and not desired.zones:
        raise EdgeError(f"zone {zone} is not in the file's edge.zones")
    from homeport.edge.current import read_current  # noqa: PLC0415

    api = connect(quiet)
    current = read_current(api, desired)
    return Session(loaded, api, desired, current, plan_edge(desired, current, adopt=adopt))


def show(plan: Plan, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print the plan for people or as JSON."""
    if as_json:
        print_json({**plan.to_json(), "unsafe": unsafe_reasons(plan), **(extra or {})})
    else:
        console.print(render_plan(plan), soft_wrap=True)


@app.command()
@reports_errors
def plan(
    file: FileOption = None,
    zone: ZoneOption = None,
    adopt: AdoptOption = False,
    force: ForceOption = False,
    as_json: JsonOption = False,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 2 when there are changes (CI drift check).")
    ] = False,
) -> None:
    """Show what apply would change on Cloudflare; changes nothing."""
    session = make_plan(file, zone, adopt)
    show(session.plan, as_json)
    check_safety(session.plan, force=force)
    if exit_code and session.plan.has_changes:
        raise typer.Exit(2)


@app.command()
@reports_errors
def apply(
    file: FileOption = None,
    zone: ZoneOption = None,
    adopt: AdoptOption = False,
    force: ForceOption = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (for CI).")] = False,
    checksum: Annotated[
        str | None,
        typer.Option("--checksum", help="Apply only if the plan is still the one reviewed."),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Show the plan, ask, then make Cloudflare match the file (journaled for rollback)."""
    session = make_plan(file, zone, adopt, quiet)
    plan = session.plan
    if not quiet:
        show(plan, False)
    if not plan.has_changes:
        return
    if checksum is not None and checksum.strip() != plan.checksum:
        raise ChecksumMismatch(
            f"the plan's checksum is now {plan.checksum}, not {checksum.strip()}: the file or "
            "Cloudflare changed since the plan was reviewed; nothing was changed. Run "
            "'homeport edge plan' again and review it"
        )
    from homeport.edge.apply import Applier  # noqa: PLC0415
    from homeport.edge.preflight import check_limits, check_permissions  # noqa: PLC0415

    check_safety(plan, force=force)
    check_limits(session.desired, session.current)
    applier = Applier(
        session.api,
        plan,
        session.desired,
        session.current,
        progress=None if quiet else lambda line: err_console.print(line, markup=False),
    )
    applier.check_tunnel_version()
    if not yes and not typer.confirm("Apply these changes to Cloudflare?", default=False):
        raise fail("nothing was changed", 1)
    check_permissions(session.api, plan, session.desired, session.current)
    report = applier.run(session.loaded.state_dir)
    for warning in report.warnings:
        err_console.print(f"warning: {warning}", style="yellow", markup=False)
    counts = plan.counts()
    console.print(
        f"Applied: {counts['create']} created, {counts['update']} updated, "
        f"{counts['delete']} deleted. Journal: {report.journal}",
        markup=False,
        soft_wrap=True,
    )


@app.command()
@reports_errors
def rollback(
    journal: Annotated[Path, typer.Argument(help="A journal from <state dir>/edge-journal/.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Put back the pre-images an apply journaled."""
    if not yes and not typer.confirm(f"Restore the pre-images of {journal}?", default=False):
        raise fail("nothing was changed", 1)
    from homeport.edge.rollback import rollback as run_rollback  # noqa: PLC0415

    report = run_rollback(connect(), journal)
    for line in report.done:
        console.print(line, markup=False)
    console.print(f"Rolled back {journal}.", markup=False)


@app.command("import")
@reports_errors
def import_(
    file: FileOption = None,
    zones: Annotated[
        list[str] | None, typer.Option("--zone", help="A zone to import (repeatable).")
    ] = None,
    account_id: Annotated[str | None, typer.Option("--account-id")] = None,
    tunnel_id: Annotated[str | None, typer.Option("--tunnel-id")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write what is live on Cloudflare as an edge: section."""
    existing = _existing_edge(file)
    account = account_id or (existing.account_id if existing else None)
    tunnel = tunnel_id or (existing.tunnel.id if existing else None)
    names = list(zones or (list(existing.zones) if existing else []))
    if not account or not tunnel or not names:
        raise EdgeError(
            "import needs an account, a tunnel and zones: pass --account-id, --tunnel-id and "
            "--zone, or -f a platform file whose edge: section names them"
        )
    keep: dict[str, Any] = {}
    if existing is not None and existing.failover is not None:
        keep["failover"] = existing.failover.model_dump(mode="json", exclude_defaults=True)
    from homeport.edge.importer import import_edge  # noqa: PLC0415

    section, skipped = import_edge(
        connect(),
        account,
        tunnel,
        names,
        tunnel_name=existing.tunnel.name if existing else None,
        keep=keep,
    )
    text = yaml.safe_dump({"edge": section}, sort_keys=False, allow_unicode=True, width=100)
    for line in skipped:
        err_console.print(f"not imported: {line}", style="yellow", markup=False)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote the edge: section to {output}", markup=False)


def _existing_edge(file: Path | None) -> Edge | None:
    if file is None and not Path("homeport.yaml").exists():
        return None
    try:
        return load(file).platform.edge
    except ConfigError:
        if file is not None:
            raise
        return None
