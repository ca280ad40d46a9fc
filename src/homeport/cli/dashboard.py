"""``homeport dashboard``: the address (with its token) of the running platform's dashboard."""

from __future__ import annotations

from homeport.cli.common import FileOption, JsonOption, console, load, print_json, reports_errors
from homeport.errors import HomeportError
from homeport.orchestrator.process import start_time
from homeport.orchestrator.state import read_json

DASHBOARD_FILE = "dashboard.json"  # written by homeport.dashboard.server


@reports_errors
def dashboard(file: FileOption = None, as_json: JsonOption = False) -> None:
    """Print the URL of the dashboard `homeport up` runs (it carries the sign-in token)."""
    loaded = load(file)
    info = read_json(loaded.state_dir / DASHBOARD_FILE)
    if not isinstance(info, dict) or start_time(int(info.get("pid") or 0)) is None:
        raise HomeportError(
            f"no dashboard is running for {loaded.path}; start the platform with `homeport up`"
        )
    if as_json:
        print_json({"url": info["url"], "otlp_endpoint": info["base_url"], "pid": info["pid"]})
        return
    console.print(str(info["url"]), markup=False, soft_wrap=True)
