"""The monolith: the jobs and the companies API in one process."""

from __future__ import annotations

from services.common import companies_api, jobs_api
from services.common.settings import Settings
from services.common.web import create_app, serve


def main() -> None:
    """Serve /api/jobs* and /api/companies* on PORT."""
    settings = Settings.from_env("monolith")
    routes = [*jobs_api.routes, *companies_api.routes]
    serve(create_app(settings, routes, database=True, redis=True), settings)


if __name__ == "__main__":
    main()
