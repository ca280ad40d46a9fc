"""The companies microservice: /api/companies* alone (the monolith's companies half)."""

from __future__ import annotations

from services.common import companies_api
from services.common.settings import Settings
from services.common.web import create_app, serve


def main() -> None:
    """Serve /api/companies* on PORT."""
    settings = Settings.from_env("companies")
    serve(create_app(settings, companies_api.routes, database=True), settings)


if __name__ == "__main__":
    main()
