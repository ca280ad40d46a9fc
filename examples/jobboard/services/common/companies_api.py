"""/api/companies: list and read companies."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.common import store
from services.common.params import BadRequest, limit_of
from services.common.web import pool_of


async def list_companies(request: Request) -> JSONResponse:
    """Companies by name, ``?limit=N``."""
    limit = limit_of(request)
    async with pool_of(request).connection() as conn:
        return JSONResponse({"companies": await store.list_companies(conn, limit)})


async def get_company(request: Request) -> JSONResponse:
    """One company by id."""
    async with pool_of(request).connection() as conn:
        company = await store.get_company(conn, request.path_params["company_id"])
    if company is None:
        raise BadRequest("no such company", 404)
    return JSONResponse(company)


routes = [
    Route("/api/companies", list_companies, methods=["GET"]),
    Route("/api/companies/{company_id:int}", get_company, methods=["GET"]),
]
