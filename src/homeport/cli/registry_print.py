"""What ``homeport registry`` prints: tables and summary lines for status, plan, apply and gc."""

from __future__ import annotations

from rich.table import Table

from homeport.cli.common import console, err_console, print_json
from homeport.registry.apply import Outcome
from homeport.registry.gc import GcReport
from homeport.registry.retention import RetentionPlan
from homeport.registry.status import RegistryStatus, human_bytes


def print_status(result: RegistryStatus, digests: bool = False) -> None:
    """Repositories with their tags per group and sizes (or, with ``digests``, one line per
    tag with its digest and creation time), then totals and disk usage."""
    console.print(_digest_table(result) if digests else _group_table(result))
    console.print(
        f"{result.url}: {len(result.repositories)} repositories, {result.tags} tags, "
        f"{result.images} images, {human_bytes(result.unique_bytes)} unique blobs",
        markup=False,
    )
    if result.disk is not None:
        disk = result.disk
        console.print(
            f"storage {disk.path}: registry {human_bytes(disk.registry_bytes)}; disk "
            f"{disk.percent:.1f}% used, {human_bytes(disk.free)} free of {human_bytes(disk.total)}",
            markup=False,
        )


def _group_table(result: RegistryStatus) -> Table:
    table = Table("repository", "group", "tags", "images", "unique size", box=None)
    for repo in result.repositories:
        for index, (group, tags) in enumerate(sorted(repo.groups.items())):
            names = ", ".join(t.tag for t in sorted(tags, key=lambda t: t.tag))
            table.add_row(
                repo.name if index == 0 else "",
                group,
                names,
                str(repo.images) if index == 0 else "",
                human_bytes(repo.unique_bytes) if index == 0 else "",
            )
    return table


def _digest_table(result: RegistryStatus) -> Table:
    table = Table("repository", "group", "tag", "digest", "created", box=None)
    for repo in result.repositories:
        for group, tags in sorted(repo.groups.items()):
            for tag in sorted(tags, key=lambda t: t.tag):
                created = (tag.created or "?")[:19]
                table.add_row(repo.name, group, tag.tag, tag.digest[:19], created)
    return table


def print_plan(result: RetentionPlan) -> None:
    """One line per deletion (what, tags, age, bytes), then the plan's summary."""
    for deletion in result.deletions:
        index = "index" in deletion.media_type or "list" in deletion.media_type
        kind = f" (index + {len(deletion.children)} child manifests)" if index else ""
        console.print(
            f"- {deletion.repository}@{deletion.digest[:19]}{kind} "
            f"tags {', '.join(deletion.tags)} (created {(deletion.created or '?')[:19]}) "
            f"frees {human_bytes(deletion.bytes_freed)}",
            markup=False,
            soft_wrap=True,
        )
    kept = sum(1 for d in result.decisions if d.keep)
    gone = len(result.decisions) - kept
    console.print(
        f"Plan: delete {len(result.deletions)} images ({gone} tags), keep {kept} tags; "
        f"frees ~{human_bytes(result.bytes_freed)} ({result.bytes_freed} bytes) after gc. "
        f"checksum {result.checksum[:12]}",
        markup=False,
        soft_wrap=True,
    )


def print_outcomes(outcomes: list[Outcome], chosen: RetentionPlan) -> None:
    """One line per planned deletion: deleted or why skipped, then counts."""
    for outcome in outcomes:
        style = "green" if outcome.deleted else "yellow"
        console.print(
            f"{outcome.detail}: {outcome.repository}@{outcome.digest[:19]} "
            f"({', '.join(outcome.tags)})",
            style=style,
            markup=False,
            soft_wrap=True,
        )
    deleted = sum(1 for o in outcomes if o.deleted)
    console.print(
        f"Applied: {deleted} deleted, {len(outcomes) - deleted} skipped; run "
        f"'homeport registry gc' to free ~{human_bytes(chosen.bytes_freed)}",
        markup=False,
    )


def print_gc(report: GcReport, as_json: bool) -> None:
    """Why -m was withheld (if so), then blobs deleted, bytes freed and what was verified."""
    if as_json:
        print_json(
            {
                "delete_untagged": report.delete_untagged,
                "untagged_refused": list(report.untagged_refused),
                "blobs_deleted": len(report.collected.blobs),
                "manifests_deleted": len(report.collected.manifests),
                "bytes_before": report.bytes_before,
                "bytes_after": report.bytes_after,
                "bytes_freed": report.bytes_freed,
                "verified_tags": report.verified_tags,
                "verified_blobs": report.verified_blobs,
                "notes": list(report.notes),
            }
        )
        return
    for reason in report.untagged_refused:
        err_console.print(
            f"not using --delete-untagged: {reason}", style="yellow", markup=False, soft_wrap=True
        )
    for note in report.notes:
        err_console.print(note, style="yellow", markup=False, soft_wrap=True)
    console.print(
        f"gc: deleted {len(report.collected.blobs)} blobs"
        f"{' and untagged manifests' if report.delete_untagged else ''}; freed "
        f"{human_bytes(report.bytes_freed)} ({report.bytes_freed} bytes); verified "
        f"{report.verified_tags} tags and {report.verified_blobs} manifests and blobs: all served",
        markup=False,
        soft_wrap=True,
    )
