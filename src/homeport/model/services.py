"""The ``services:`` section: what ``homeport up`` runs locally and ``deploy`` runs remotely."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from homeport.model.types import Duration, Name, Port, Section, one_or_many

ServiceKind = Literal["executable", "container", "postgres", "redis", "seed", "gateway", "registry"]
RestartPolicy = Literal["no", "on-failure", "always"]
REFERENCE_ATTRIBUTES = ("url", "host", "port", "name")


class Probe(Section):
    """One health check: exactly one of http, tcp, exec or log, with its timing."""

    http: str | None = Field(None, description="HTTP path to GET, e.g. /healthz")
    status: int = Field(200, ge=100, le=599, description="expected HTTP status")
    tcp: bool = Field(False, description="healthy when the port accepts TCP connections")
    exec: list[str] | None = Field(None, description="command that exits 0 when healthy")
    log: str | None = Field(None, description="regular expression a log line must match")
    interval: Duration = 1.0
    timeout: Duration = 2.0
    failure_threshold: int = Field(3, ge=1)
    success_threshold: int = Field(1, ge=1)
    initial_delay: Duration = 0.0

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"http": value} if value.startswith("/") else {"exec": value.split()}
        if isinstance(value, dict) and isinstance(value.get("exec"), str):
            return {**value, "exec": ["sh", "-c", value["exec"]]}
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Probe:
        chosen = [n for n in ("http", "tcp", "exec", "log") if getattr(self, n)]
        if len(chosen) != 1:
            raise ValueError(
                f"a health check needs exactly one of http, tcp, exec or log (got {len(chosen)})"
            )
        if self.http is not None and not self.http.startswith("/"):
            raise ValueError(f"http path '{self.http}' must start with '/'")
        return self

    @property
    def kind(self) -> str:
        """Which check this is: http, tcp, exec or log."""
        return next(n for n in ("http", "tcp", "exec", "log") if getattr(self, n))


class Restart(Section):
    """When a process that exits is started again, with exponential backoff."""

    policy: RestartPolicy = "no"
    backoff: Duration = Field(1.0, description="first delay before a restart")
    max_backoff: Duration = Field(30.0, description="the delay doubles up to this")
    max_restarts: int | None = Field(None, ge=0, description="give up after this many")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value is False:
            return {"policy": "no"}
        return {"policy": value} if isinstance(value, str) else value


class Seed(Section):
    """One backup restored into one database by the seed step."""

    into: str = Field(description="the service (postgres, redis) or a URL to restore into")
    database: str | None = Field(None, description="database name (SQL engines)")
    from_: str = Field(alias="from", description="backup file, relative to the platform file")
    format: Literal["auto", "custom", "directory", "sql", "redis", "rdb"] = "auto"


class Mirror(Section):
    """A registry that acts as a pull-through cache of another."""

    upstream: str = Field(description="the registry it caches, e.g. https://registry-1.docker.io")


class Service(Section):
    """One resource of the platform: a process, a container, a database, a step."""

    kind: ServiceKind = "executable"
    run: Annotated[list[str] | str | None, Field(description="command line to run")] = None
    image: str | None = Field(None, description="container image (container kind, and deploys)")
    cwd: str | None = Field(None, description="working directory, relative to the platform file")
    port: Port | None = Field(None, description="fixed port; taken from the OS when absent")
    env: dict[str, str | int | float | bool] = Field(default_factory=dict)
    health: Probe | None = Field(None, description="readiness check; a path means HTTP GET")
    liveness: Probe | None = None
    startup: Probe | None = None
    startup_timeout: Duration = Field(60.0, description="time allowed to become healthy")
    wait_for: Annotated[list[str], BeforeValidator(one_or_many)] = Field(default_factory=list)
    wait_for_start: Annotated[list[str], BeforeValidator(one_or_many)] = Field(default_factory=list)
    wait_for_completion: Annotated[list[str], BeforeValidator(one_or_many)] = Field(
        default_factory=list
    )
    restart: Restart = Field(default_factory=Restart)
    replicas: int = Field(1, ge=1, le=64)
    stop_grace: Duration = Field(5.0, description="time between TERM and KILL on stop")
    databases: list[Name] = Field(default_factory=list, description="postgres: databases to create")
    seeds: list[Seed] = Field(default_factory=list, description="seed: backups to restore")
    mirror: Mirror | None = Field(None, description="registry: run as a pull-through cache")

    @property
    def dependencies(self) -> list[str]:
        """Every service this one waits for, in any way."""
        return [*self.wait_for, *self.wait_for_start, *self.wait_for_completion]


ServiceName = Name
ServiceMap = dict[ServiceName, Service]
