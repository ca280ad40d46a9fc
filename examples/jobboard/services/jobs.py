"""The jobs microservice: /api/jobs* alone (the monolith's jobs half)."""

from __future__ import annotations

from services.common import jobs_api
from services.common.settings import Settings
from services.common.web import create_app, serve


def main() -> None:
    """Serve /api/jobs* on PORT."""
    settings = Settings.from_env("jobs")
    serve(create_app(settings, jobs_api.routes, database=True, redis=True), settings)


if __name__ == "__main__":
    main()
