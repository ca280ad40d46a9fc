"""The example platform's services as real processes against real PostgreSQL and Redis: the
monolith serves the seeded data and announces new jobs, the AI worker tags them, the split
microservices and the landing page answer, and the seeds restore as documented."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from tests.support.example import (
    EXAMPLE,
    SEEDS,
    Service,
    poll,
    restore_jobs_dump,
    running,
    send_inline_commands,
)
from tests.support.servers import RedisServer, start_redis


@pytest.fixture
def jobs_db(pg_database: str) -> str:
    """A fresh database holding the seeded jobs and companies."""
    restore_jobs_dump(pg_database)
    return pg_database


@pytest.fixture
def env(jobs_db: str, redis_server: RedisServer, redis_prefix: str) -> dict[str, str]:
    """What `homeport up` hands every service, with a stream no other test reads."""
    return {
        "DATABASE_URL": jobs_db,
        "REDIS_URL": redis_server.url,
        "JOBS_STREAM": f"{redis_prefix}jobs.events",
    }


@pytest.fixture
def monolith(env: dict[str, str], tmp_path: Path) -> Iterator[Service]:
    with running("monolith", env, tmp_path) as service:
        yield service


def test_a_job_created_through_the_monolith_is_readable_and_tagged_by_the_ai_worker(
    monolith: Service, env: dict[str, str], tmp_path: Path, redis_server: RedisServer
) -> None:
    job = {
        "title": "Senior Python Engineer",
        "company_id": 7,
        "description": "Kubernetes and PostgreSQL, fully remote.",
        "location": "Remote",
    }
    with running("ai_worker", {**env, "HOMEPORT_SERVICE": "ai"}, tmp_path) as worker:
        created = httpx.post(f"{monolith.url}/api/jobs", json=job)
        assert created.status_code == 201, created.text
        assert created.headers["x-served-by"] == "monolith"
        job_id = created.json()["id"]
        assert created.headers["location"] == f"/api/jobs/{job_id}"

        read = httpx.get(f"{monolith.url}/api/jobs/{job_id}").json()
        assert (read["title"], read["company_id"], read["location"]) == (
            "Senior Python Engineer",
            7,
            "Remote",
        )
        newest = httpx.get(f"{monolith.url}/api/jobs", params={"limit": 1}).json()["jobs"]
        assert [j["id"] for j in newest] == [job_id]

        def tags() -> list[str] | None:
            found: list[str] = httpx.get(f"{monolith.url}/api/jobs/{job_id}").json()["tags"]
            return found or None

        assert poll(tags, 20, "the AI worker to tag the job") == [
            "data",
            "devops",
            "python",
            "remote",
            "senior",
        ], worker.output()
        health = httpx.get(f"{worker.url}/healthz")
        assert (health.status_code, health.headers["x-served-by"]) == (200, "ai")

    client = redis.Redis(host="127.0.0.1", port=redis_server.port, decode_responses=True)
    with client:
        entries = client.xrange(env["JOBS_STREAM"])
        assert [fields for _, fields in entries] == [
            {"type": "job.created", "job_id": str(job_id), "title": "Senior Python Engineer"}
        ]
        assert client.xpending(env["JOBS_STREAM"], "ai-worker")["pending"] == 0


def test_the_ai_worker_tags_jobs_announced_before_it_started_and_stops_cleanly_on_sigterm(
    monolith: Service, env: dict[str, str], tmp_path: Path
) -> None:
    body = {"title": "Junior Rust developer", "company_id": 1, "description": "Security tools."}
    job_id = httpx.post(f"{monolith.url}/api/jobs", json=body).json()["id"]
    with running("ai_worker", env, tmp_path) as worker:
        poll(
            lambda: httpx.get(f"{monolith.url}/api/jobs/{job_id}").json()["tags"] or None,
            20,
            "the tags of a job announced before the worker started",
        )
        worker.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down, then re-raises the signal it caught: death by SIGTERM, not a crash
        assert worker.process.wait(timeout=10) == -signal.SIGTERM, worker.output()
        assert "Application shutdown complete" in worker.output()
    assert httpx.get(f"{monolith.url}/api/jobs/{job_id}").json()["tags"] == [
        "junior",
        "rust",
        "security",
    ]


def test_the_ai_worker_finishes_entries_a_previous_run_read_but_never_acknowledged(
    monolith: Service, env: dict[str, str], tmp_path: Path, redis_server: RedisServer
) -> None:
    body = {"title": "Staff Go engineer", "company_id": 2, "description": "Terraform."}
    job_id = httpx.post(f"{monolith.url}/api/jobs", json=body).json()["id"]
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, decode_responses=True)
    with client:
        # a worker named "ai-1" read the entry and died before XACK
        client.xgroup_create(env["JOBS_STREAM"], "ai-worker", id="0")
        assert client.xreadgroup("ai-worker", "ai-1", {env["JOBS_STREAM"]: ">"})
        with running("ai_worker", {**env, "CONSUMER_NAME": "ai-1"}, tmp_path):
            poll(
                lambda: httpx.get(f"{monolith.url}/api/jobs/{job_id}").json()["tags"] or None,
                20,
                "the tags of a job whose entry was left pending",
            )
            pending = poll(
                lambda: client.xpending(env["JOBS_STREAM"], "ai-worker")["pending"] == 0 or None,
                10,
                "the pending entry to be acknowledged",
            )
            assert pending
    assert httpx.get(f"{monolith.url}/api/jobs/{job_id}").json()["tags"] == [
        "devops",
        "go",
        "senior",
    ]


def test_the_monolith_serves_the_seeded_jobs_and_companies(monolith: Service) -> None:
    health = httpx.get(f"{monolith.url}/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    jobs = httpx.get(f"{monolith.url}/api/jobs", params={"limit": 500}).json()["jobs"]
    assert len(jobs) == 500
    assert {"id", "title", "company", "location", "tags", "created_at"} <= set(jobs[0])
    assert httpx.get(f"{monolith.url}/api/jobs").json()["jobs"] == jobs[:50]
    companies = httpx.get(f"{monolith.url}/api/companies", params={"limit": 500}).json()
    assert len(companies["companies"]) == 240
    company = httpx.get(f"{monolith.url}/api/companies/1")
    assert company.headers["x-served-by"] == "monolith"
    assert company.json()["name"] == "Harbor Works"


BAD_REQUESTS = [
    ("POST", "/api/jobs", {"title": "x", "company_id": 999999}, 422, "does not exist"),
    ("POST", "/api/jobs", {"title": "", "company_id": 1}, 422, "title"),
    ("POST", "/api/jobs", {"title": "x", "company_id": "1"}, 422, "company_id"),
    ("POST", "/api/jobs", [1, 2], 400, "JSON object"),
    ("GET", "/api/jobs?limit=0", None, 400, "limit"),
    ("GET", "/api/jobs?limit=many", None, 400, "limit"),
    ("GET", "/api/jobs/999999", None, 404, "no such job"),
    ("GET", "/api/companies/999999", None, 404, "no such company"),
]


def test_the_monolith_refuses_bad_requests_with_a_json_error(monolith: Service) -> None:
    # one monolith for all the cases: starting one per case would cost most of a second each
    for method, path, body, status, error in BAD_REQUESTS:
        response = httpx.request(method, f"{monolith.url}{path}", json=body)
        assert (response.status_code, error in response.json()["error"]) == (status, True), (
            method,
            path,
            response.text,
        )
    assert httpx.get(f"{monolith.url}/api/jobs", params={"limit": 600}).status_code == 400
    assert len(httpx.get(f"{monolith.url}/api/jobs", params={"limit": 500}).json()["jobs"]) == 500


def test_the_microservices_each_serve_their_half_of_the_api(
    env: dict[str, str], tmp_path: Path
) -> None:
    with (
        running("jobs", env, tmp_path) as jobs,
        running("companies", {"DATABASE_URL": env["DATABASE_URL"]}, tmp_path) as companies,
    ):
        listed = httpx.get(f"{jobs.url}/api/jobs", params={"limit": 3})
        assert listed.headers["x-served-by"] == "jobs"
        assert len(listed.json()["jobs"]) == 3
        assert httpx.get(f"{jobs.url}/api/companies").status_code == 404
        company = httpx.get(f"{companies.url}/api/companies/2")
        assert company.headers["x-served-by"] == "companies"
        assert company.json()["name"] == "Bright Labs"
        assert httpx.get(f"{companies.url}/api/jobs").status_code == 404
        for service in (jobs, companies):
            health = httpx.get(f"{service.url}/healthz")
            assert (health.status_code, health.headers["x-served-by"]) == (200, service.module)


def test_the_landing_page_lists_the_jobs_from_the_api(monolith: Service, tmp_path: Path) -> None:
    newest = httpx.get(f"{monolith.url}/api/jobs", params={"limit": 1}).json()["jobs"][0]
    with running("landing", {"API_URL": monolith.url + "/"}, tmp_path) as landing:
        page = httpx.get(f"{landing.url}/")
        assert page.status_code == 200
        assert page.headers["x-served-by"] == "landing"
        assert page.headers["content-type"].startswith("text/html")
        assert page.text.count("<li>") == 50
        assert f"<strong>{newest['title']}</strong> · {newest['company']}" in page.text
        assert httpx.get(f"{landing.url}/healthz").status_code == 200


def test_the_landing_page_says_when_the_api_is_unreachable(tmp_path: Path) -> None:
    with running("landing", {"API_URL": "http://127.0.0.1:9"}, tmp_path) as landing:
        page = httpx.get(f"{landing.url}/")
        assert page.status_code == 502
        assert "unavailable" in page.text
        assert httpx.get(f"{landing.url}/healthz").status_code == 200


def test_a_service_without_its_connection_string_exits_naming_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.monolith"],
        cwd=EXAMPLE,
        env={"PATH": "/usr/bin:/bin", "PORT": "1"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "monolith: DATABASE_URL is not set; the service needs it"
    )


def test_the_jobs_dump_restores_with_tagged_jobs(jobs_db: str) -> None:
    with psycopg.connect(jobs_db) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM companies), (SELECT count(*) FROM jobs),"
            " (SELECT count(*) FROM jobs WHERE tags <> '{}')"
        ).fetchone()
        assert counts is not None
        companies, jobs, tagged = counts
        assert (companies, jobs) == (240, 600)
        assert tagged > 500
        # the identity sequence was dumped too: a new row gets the next id
        new_id = conn.execute(
            "INSERT INTO companies (name) VALUES ('New Co') RETURNING id"
        ).fetchone()
        assert new_id == (241,)


def test_cache_redis_loads_through_the_inline_protocol() -> None:
    server = start_redis()
    try:
        replies = send_inline_commands(SEEDS / "cache.redis", server.host, server.port)
        assert replies and all(r in (b"+OK", b":0", b":1", b":8") for r in replies), replies
        client = redis.Redis(host=server.host, port=server.port, decode_responses=True)
        with client:
            assert client.get("jobboard:company:1:name") == "Harbor Works"
            assert client.get("jobboard:jobs:count") == "600"
            per_location = client.hgetall("jobboard:jobs:by_location")
            assert sum(map(int, per_location.values())) == 600
            assert client.dbsize() == 240 + 2
    finally:
        server.stop()
