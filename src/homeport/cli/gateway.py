"""``homeport gateway``: serve the edge gateway, render it for nginx, refresh its GeoIP data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from homeport.cli.common import FileOption, console, err_console, load, reports_errors
from homeport.gateway.config import ENDPOINTS_VARIABLE, parse_endpoints, parse_upstream_options

app = typer.Typer(
    name="gateway",
    help="The edge gateway: header-routed proxy with geo lookups and CORS across zones.",
    no_args_is_help=True,
)
render_app = typer.Typer(name="render", help="Render the gateway for another data plane.")
app.add_typer(render_app)


@app.command()
@reports_errors
def serve(
    file: FileOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8080,
    upstream: Annotated[
        list[str] | None,
        typer.Option(help="NAME=URL: where a service runs (repeatable); overrides the endpoints."),
    ] = None,
) -> None:
    """Run the gateway in front of the platform's services until interrupted."""
    from homeport.gateway.server import build_gateway, run  # noqa: PLC0415 (keeps `homeport` fast)

    loaded = load(file)
    gateway = build_gateway(loaded, upstream or [])
    routes = len(gateway.config.routes.routes)
    geo = gateway.geo.description if gateway.geo else "off"

    def ready(bound: int) -> None:
        err_console.print(
            f"gateway listening on http://{host}:{bound} ({routes} routes, geo: {geo})",
            markup=False,
            soft_wrap=True,
        )
        for service in gateway.config.pending:
            err_console.print(
                f"service '{service}' is not running yet: its routes answer 502 until "
                f"{gateway.config.endpoints_file} gives its address",
                markup=False,
                soft_wrap=True,
            )

    run(gateway, host, port, ready)


@render_app.command("nginx")
@reports_errors
def render_nginx(
    file: FileOption = None,
    upstream: Annotated[
        list[str] | None,
        typer.Option(help="NAME=URL: where a service runs (repeatable); overrides the endpoints."),
    ] = None,
    geo_url: Annotated[
        str, typer.Option(help="URL of the Python gateway that answers /api/public/geo.")
    ] = "http://127.0.0.1:8080",
    listen: Annotated[str, typer.Option(help="nginx 'listen' address.")] = "127.0.0.1:8080",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write an nginx configuration with the same routes, CORS and client-address rules."""
    from homeport.gateway.nginx import render_nginx as render  # noqa: PLC0415 (as above)

    loaded = load(file)
    endpoints = parse_endpoints(os.environ.get(ENDPOINTS_VARIABLE))
    endpoints.update(parse_upstream_options(upstream or []))
    text = render(loaded, endpoints, geo_url=geo_url, listen=listen)
    if output is None:
        console.file.write(text)
        return
    output.write_text(text)
    err_console.print(f"wrote {output}", markup=False, soft_wrap=True)


@app.command("geo-update")
@reports_errors
def geo_update(
    database: Annotated[Path, typer.Argument(help="A GeoLite2/GeoIP2 City .mmdb file.")],
    file: FileOption = None,
) -> None:
    """Replace the gateway's GeoIP database atomically; running gateways reload it within 1 s."""
    from homeport.gateway.geo import (  # noqa: PLC0415 (as above)
        STATE_NAME,
        install_database,
        update_target,
    )
    from homeport.gateway.geo_index import cache_directory  # noqa: PLC0415

    loaded = load(file)
    gateway = loaded.platform.gateway
    configured = gateway.geo.database if gateway else "bundled"
    if configured != "bundled" and not Path(configured).is_absolute():
        configured = str(loaded.root / configured)
    target = update_target(configured, loaded.state_dir / "gateway" / STATE_NAME)
    described = install_database(database, target, cache_directory())
    console.print(f"installed {described} at {target}", markup=False, soft_wrap=True)
