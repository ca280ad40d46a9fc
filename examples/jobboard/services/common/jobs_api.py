"""/api/jobs: list, read, and create jobs; a created job is announced on the Redis Stream."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.common import store
from services.common.events import publish_job_created
from services.common.params import BadRequest, int_field, json_object, limit_of, text_field
from services.common.web import pool_of, redis_of


async def list_jobs(request: Request) -> JSONResponse:
    """The newest jobs, ``?limit=N``."""
    limit = limit_of(request)
    async with pool_of(request).connection() as conn:
        return JSONResponse({"jobs": await store.list_jobs(conn, limit)})


async def get_job(request: Request) -> JSONResponse:
    """One job by id."""
    async with pool_of(request).connection() as conn:
        job = await store.get_job(conn, request.path_params["job_id"])
    if job is None:
        raise BadRequest("no such job", 404)
    return JSONResponse(job)


async def create_job(request: Request) -> JSONResponse:
    """Insert a job, commit, then XADD ``job.created`` so the AI worker tags it."""
    body = await json_object(request)
    title = text_field(body, "title")
    company_id = int_field(body, "company_id")
    description = text_field(body, "description", required=False)
    location = text_field(body, "location", required=False)
    async with pool_of(request).connection() as conn:
        job_id = await store.insert_job(conn, title, company_id, description, location)
        if job_id is None:
            raise BadRequest(f"company {company_id} does not exist", 422)
        await conn.commit()
        job = await store.get_job(conn, job_id)
    # Published after the commit, so the worker never reads an event before its row.
    await publish_job_created(redis_of(request), request.app.state.stream, job_id, title)
    return JSONResponse(job, status_code=201, headers={"location": f"/api/jobs/{job_id}"})


routes = [
    Route("/api/jobs", list_jobs, methods=["GET"]),
    Route("/api/jobs", create_job, methods=["POST"]),
    Route("/api/jobs/{job_id:int}", get_job, methods=["GET"]),
]
