"""``homeport registry``: status and disk alerts, retention plan/apply, safe gc, mirror config."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from homeport.cli.common import (
    FileOption,
    JsonOption,
    err_console,
    fail,
    load,
    print_json,
    reports_errors,
)
from homeport.cli.registry_print import print_gc, print_outcomes, print_plan, print_status
from homeport.errors import HomeportError
from homeport.model import LoadedPlatform
from homeport.model.types import parse_duration, parse_percent
from homeport.registry.apply import apply_plan
from homeport.registry.cache import ManifestCache, default_cache_path
from homeport.registry.client import Credentials, RegistryClient
from homeport.registry.control import CommandControl, MarkerControl
from homeport.registry.disk import disk_usage, post_webhook
from homeport.registry.errors import RegistryError
from homeport.registry.gc import GcReport, collect_garbage
from homeport.registry.images import Inventory
from homeport.registry.mirror import daemon_json
from homeport.registry.retention import (
    RetentionPlan,
    RetentionPolicy,
    over_threshold,
    parse_in_use,
    plan_retention,
)
from homeport.registry.scan import read_inventory
from homeport.registry.server import managed_paths
from homeport.registry.settings import RegistrySettings, RetentionFlags, resolve
from homeport.registry.status import summarize, with_alert

app = typer.Typer(
    name="registry",
    help="The private registry: retention per environment, safe gc, disk alerts, mirror.",
    no_args_is_help=True,
)

UrlOption = Annotated[str | None, typer.Option(help="The registry's URL (overrides the file).")]
ConfigOption = Annotated[
    Path | None, typer.Option(help="The registry's config.yml (gives its storage path).")
]
StorageOption = Annotated[
    Path | None, typer.Option(help="The registry's storage directory, when it is local.")
]
InsecureOption = Annotated[
    bool, typer.Option("--insecure", help="Do not verify the registry's TLS certificate.")
]
CaOption = Annotated[Path | None, typer.Option(help="CA bundle to verify the registry with.")]
KeepOption = Annotated[int | None, typer.Option(help="Images kept per group (default 10).")]
GroupOption = Annotated[
    list[str] | None,
    typer.Option(help="NAME[=REGEX][:N]: an environment group (repeatable); default '^NAME-'."),
]
GraceOption = Annotated[
    str | None, typer.Option(help="Images created within this time are kept (e.g. 24h).")
]
MovingOption = Annotated[
    list[str] | None, typer.Option(help="A moving tag, always kept (repeatable).")
]
InUseOption = Annotated[
    Path | None, typer.Option(help="A file of digests in use (one per line); they are kept.")
]
CacheOption = Annotated[
    bool,
    typer.Option(
        "--cache/--no-cache",
        help="Keep manifests by digest in ~/.cache/homeport/registry (they never change).",
    ),
]
RepoOption = Annotated[
    list[str] | None, typer.Option("--repository", help="Only this repository (repeatable).")
]


def _platform(file: Path | None, url: str | None) -> LoadedPlatform | None:
    if file is None and url is not None:
        return None
    if file is None and not Path("homeport.yaml").exists():
        raise RegistryError(
            "no registry to talk to: give -f FILE (with a registry: section) or --url URL"
        )
    return load(file)


def _settings(
    file: Path | None,
    url: str | None,
    config: Path | None = None,
    storage: Path | None = None,
    *,
    restart: str | None = None,
    retention: RetentionFlags | None = None,
) -> RegistrySettings:
    loaded = _platform(file, url)
    registry = loaded.platform.registry if loaded else None
    if loaded is not None and registry is None and url is None:
        raise RegistryError(f"{loaded.path} has no registry: section; add one or give --url URL")
    upstreams: dict[str, str] = {}
    if loaded is not None:
        upstreams = {
            name: service.mirror.upstream
            for name, service in loaded.platform.services.items()
            if service.kind == "registry" and service.mirror is not None
        }
    return resolve(
        registry,
        loaded.root if loaded else None,
        url=url,
        storage=storage,
        config=config,
        restart=restart,
        retention=retention,
        mirror_upstreams=upstreams,
    )


def _flags(
    keep_last: int | None, group: list[str] | None, grace: str | None, moving: list[str] | None
) -> RetentionFlags:
    try:
        seconds = float(parse_duration(grace)) if grace is not None else None
    except ValueError as exc:
        raise RegistryError(f"--grace: {exc}") from None
    return RetentionFlags(keep_last, tuple(group or ()), seconds, tuple(moving or ()))


def _client(url: str, insecure: bool, ca_cert: Path | None) -> RegistryClient:
    """A client with credentials from the environment only (never from files in the repo)."""
    username, password = os.environ.get("REGISTRY_USERNAME"), os.environ.get("REGISTRY_PASSWORD")
    credentials = Credentials(username, password) if username and password else None
    verify: bool | str = False if insecure else (str(ca_cert) if ca_cert else True)
    return RegistryClient(
        url, credentials=credentials, token=os.environ.get("REGISTRY_TOKEN"), verify=verify
    )


def _read(client: RegistryClient, repositories: list[str] | None, use_cache: bool) -> Inventory:
    cache = ManifestCache(default_cache_path(client.url) if use_cache else None)
    inventory = read_inventory(client, repositories, cache=cache)
    try:
        cache.save()
    except OSError as exc:
        err_console.print(f"note: could not save the manifest cache: {exc}", markup=False)
    return inventory


def _policy(settings: RegistrySettings, in_use: Path | None) -> RetentionPolicy:
    digests: frozenset[str] = frozenset()
    if in_use is not None:
        try:
            digests = parse_in_use(in_use.read_text())
        except OSError as exc:
            raise RegistryError(f"--in-use {in_use}: {exc.strerror}") from None
    return RetentionPolicy.from_model(settings.retention, now=datetime.now(UTC), in_use=digests)


@app.command()
@reports_errors
def status(
    file: FileOption = None,
    url: UrlOption = None,
    config: ConfigOption = None,
    storage: StorageOption = None,
    alert: Annotated[
        str | None,
        typer.Option(
            help="Exit 1 when the storage is at least this full, e.g. 85% "
            "(without it, registry.disk_alert only prints a warning)."
        ),
    ] = None,
    webhook: Annotated[
        str | None, typer.Option(help="POST the alert as JSON to this URL (for cron).")
    ] = None,
    group: GroupOption = None,
    digests: Annotated[
        bool, typer.Option("--digests", help="One line per tag: digest and creation time.")
    ] = False,
    use_cache: CacheOption = True,
    insecure: InsecureOption = False,
    ca_cert: CaOption = None,
    as_json: JsonOption = False,
) -> None:
    """Repositories, tags per environment, sizes (shared layers once), and disk usage."""
    settings = _settings(file, url, config, storage, retention=_flags(None, group, None, None))
    with _client(settings.url, insecure, ca_cert) as client:
        inventory = _read(client, None, use_cache)
    disk = None
    if settings.storage is not None and (settings.storage.is_dir() or storage or config):
        disk = disk_usage(settings.storage)
    elif settings.storage is not None:  # the file's path, on another host than this one
        err_console.print(
            f"note: no disk figures: {settings.storage} is not on this machine", markup=False
        )
    result = summarize(settings.url, inventory, _policy(settings, None), disk)
    if alert is not None and disk is None:
        raise RegistryError("--alert needs the registry's storage: give --storage or --config")
    if disk is not None:
        result = with_alert(result, _threshold(alert, settings.disk_alert))
    if as_json:
        print_json(result.as_dict())
    else:
        print_status(result, digests)
    if result.alerts and alert is None:  # registry.disk_alert: say it, but exit 0
        for line in result.alerts:
            err_console.print(f"warning: {line}", style="yellow", markup=False, soft_wrap=True)
    elif result.alerts:
        if webhook:
            post_webhook(webhook, {"text": result.alerts[0], **result.as_dict()})
        raise fail("\n".join(f"ALERT: {line}" for line in result.alerts))


def _threshold(alert: str | None, default: float) -> float:
    if alert is None:
        return default
    try:
        return float(parse_percent(alert))
    except ValueError as exc:
        raise RegistryError(f"--alert: {exc}") from None


@app.command()
@reports_errors
def plan(
    file: FileOption = None,
    url: UrlOption = None,
    keep_last: KeepOption = None,
    group: GroupOption = None,
    grace: GraceOption = None,
    moving: MovingOption = None,
    in_use: InUseOption = None,
    repository: RepoOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Also write the plan as JSON here, for apply --plan.")
    ] = None,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 2 when the plan deletes anything.")
    ] = False,
    use_cache: CacheOption = True,
    insecure: InsecureOption = False,
    ca_cert: CaOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dry run: what retention would delete, and the bytes it would free."""
    settings = _settings(file, url, retention=_flags(keep_last, group, grace, moving))
    with _client(settings.url, insecure, ca_cert) as client:
        inventory = _read(client, repository, use_cache)
    result = plan_retention(inventory, _policy(settings, in_use))
    if out is not None:
        out.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    if as_json:
        print_json(result.as_dict())
    else:
        print_plan(result)
    if exit_code and result.has_changes:
        raise typer.Exit(2)


@app.command()
@reports_errors
def apply(
    file: FileOption = None,
    url: UrlOption = None,
    plan_file: Annotated[
        Path | None, typer.Option("--plan", help="Apply this saved plan (plan --out).")
    ] = None,
    checksum: Annotated[
        str | None, typer.Option(help="Refuse unless the plan has this checksum (prefix).")
    ] = None,
    max_delete: Annotated[
        float | None,
        typer.Option(
            parser=lambda text: float(parse_percent(text)),
            help="Exit 3 if a repository of 10+ tags would lose more than this share (30%).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Apply even over --max-delete.")] = False,
    keep_last: KeepOption = None,
    group: GroupOption = None,
    grace: GraceOption = None,
    moving: MovingOption = None,
    in_use: InUseOption = None,
    repository: RepoOption = None,
    use_cache: CacheOption = True,
    insecure: InsecureOption = False,
    ca_cert: CaOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete what retention says, re-resolving each tag first and skipping moved ones."""
    settings = _settings(file, url, retention=_flags(keep_last, group, grace, moving))
    with _client(settings.url, insecure, ca_cert) as client:
        if plan_file is not None:
            try:
                chosen = RetentionPlan.from_dict(json.loads(plan_file.read_text()))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise RegistryError(f"--plan {plan_file} is not a saved plan: {exc}") from None
        else:
            chosen = plan_retention(_read(client, repository, use_cache), _policy(settings, in_use))
        refused = over_threshold(chosen, max_delete / 100) if max_delete is not None else []
        if refused and not force:
            raise RegistryError(
                f"refusing: the plan deletes more than {max_delete:g}% of the tags of "
                f"{'; '.join(refused)}; check the plan, then apply with --force",
                exit_code=3,
            )
        if checksum and not chosen.checksum.startswith(checksum):
            raise RegistryError(
                f"the plan's checksum is {chosen.checksum[:12]}, not {checksum}; the registry "
                "changed since you read the plan: run plan again"
            )
        outcomes = apply_plan(client, chosen)
    if as_json:
        print_json({"checksum": chosen.checksum, "outcomes": [vars(o) for o in outcomes]})
        return
    print_outcomes(outcomes, chosen)


@app.command()
@reports_errors
def gc(
    file: FileOption = None,
    url: UrlOption = None,
    config: ConfigOption = None,
    storage: StorageOption = None,
    restart_cmd: Annotated[
        str | None,
        typer.Option(
            help="Command that restarts the registry (e.g. 'systemctl restart docker-registry'); "
            "gc toggles storage.maintenance.readonly in --config around it."
        ),
    ] = None,
    delete_untagged: Annotated[
        bool | None,
        typer.Option(
            "--delete-untagged/--keep-untagged",
            help="Also delete untagged manifests (only when no index would lose children).",
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(help="A kind: registry service that 'homeport up' runs (with -f)."),
    ] = None,
    registry_bin: Annotated[
        str, typer.Option(help="distribution's binary (Debian: docker-registry).")
    ] = "docker-registry",
    insecure: InsecureOption = False,
    ca_cert: CaOption = None,
    as_json: JsonOption = False,
) -> None:
    """Collect garbage safely: read-only restart, dry run, collect, restore, verify."""
    if service is not None:
        print_gc(_gc_managed(file, service, bool(delete_untagged), registry_bin), as_json)
        return
    settings = _settings(file, url, config, storage, restart=restart_cmd)
    if settings.config is None or settings.storage is None:
        raise RegistryError("gc needs the registry's config.yml: give --config PATH")
    if settings.restart is None:
        raise RegistryError(
            "gc must make the registry read-only while it collects: give --restart-cmd "
            "'systemctl restart docker-registry' (or registry.restart in the platform file)"
        )
    untagged = settings.delete_untagged if delete_untagged is None else delete_untagged
    with _client(settings.url, insecure, ca_cert) as client:
        control = CommandControl(settings.config, settings.restart, client)
        report = collect_garbage(
            client,
            control,
            settings.config,
            settings.storage,
            delete_untagged=untagged,
            binary=registry_bin,
        )
    print_gc(report, as_json)


def _gc_managed(file: Path | None, service: str, untagged: bool, binary: str) -> GcReport:
    """gc of a registry ``homeport up`` runs: marker file + restart through its control API."""
    from homeport.orchestrator.control_client import ControlClient  # noqa: PLC0415

    loaded = load(file)
    spec = loaded.platform.services.get(service)
    if spec is None or spec.kind != "registry":
        raise RegistryError(f"{service} is not a kind: registry service of {loaded.path}")
    paths = managed_paths(loaded.state_dir, service)
    with ControlClient.for_state_dir(loaded.state_dir) as supervisor:
        found = [r for r in supervisor.resources() if r.get("name") == service]
        if not found or not found[0].get("url"):
            raise RegistryError(f"homeport up does not serve {service}; is it running?")
        with _client(str(found[0]["url"]), False, None) as client:
            control = MarkerControl(
                paths.readonly_marker, lambda: supervisor.command(service, "restart"), client
            )
            return collect_garbage(
                client,
                control,
                paths.config,
                paths.storage,
                delete_untagged=untagged,
                binary=binary,
            )


@app.command("mirror-config")
@reports_errors
def mirror_config(
    file: FileOption = None,
    url: Annotated[str | None, typer.Option(help="The mirror's URL (overrides the file).")] = None,
) -> None:
    """Print the daemon.json fragment that makes app hosts pull Docker Hub through the mirror."""
    mirror = url
    if mirror is None:
        loaded = _platform(file, None)
        registry = loaded.platform.registry if loaded else None
        mirror = registry.mirror if registry else None
        if mirror is None:
            raise HomeportError(
                "no mirror known: set registry.mirror in the platform file or give --url URL"
            )
    print_json(daemon_json(mirror))
    err_console.print(
        "merge into /etc/docker/daemon.json on each app host, then restart dockerd; "
        "dockerd uses it for Docker Hub images only",
        markup=False,
    )
