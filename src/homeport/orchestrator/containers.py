"""Containers through docker or podman, with the same semantics as executables.

The engine's CLI runs attached (``run --rm``, host networking), so the container's output arrives
on the CLI's pipes like a process's, and the CLI's exit code is the container's. Images are
prepared (inspected, pulled only if missing) at the very start, in parallel with every wait.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from dataclasses import dataclass

from homeport.orchestrator.environment import child_env
from homeport.orchestrator.errors import EngineError
from homeport.orchestrator.launchers import Launch, Launcher
from homeport.orchestrator.probes import Outcome, check_exec

ENGINES = ("docker", "podman")
PODMAN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


@dataclass(frozen=True)
class Engine:
    """A container engine's CLI."""

    name: str
    binary: str

    def run_flags(self) -> list[str]:
        """Flags every ``run`` gets on this engine."""
        if self.name == "podman":
            return ["--network=host", *PODMAN_LIMITS]
        return ["--network=host", "--init"]


async def _run(argv: list[str], timeout: float = 120.0) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(timeout):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return 124, f"{' '.join(argv[:3])} took longer than {timeout:g}s"
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, output.decode("utf-8", "replace").strip()


async def detect_engine(choice: str = "auto") -> Engine:
    """The engine named by ``--engine``, or the first of docker, podman whose daemon answers."""
    names = ENGINES if choice == "auto" else (choice,)
    reasons: list[str] = []
    for name in names:
        binary = shutil.which(name)
        if binary is None:
            reasons.append(f"{name} is not installed")
            continue
        code, output = await _run([binary, "version", "--format", "{{.Server.Version}}"], 20)
        if code == 0:
            return Engine(name, binary)
        reasons.append(f"{name} does not answer: {output.splitlines()[-1] if output else code}")
    raise EngineError(
        "no container engine for the container services: "
        + "; ".join(reasons)
        + " (start dockerd or podman, set DOCKER_HOST, or choose with --engine)"
    )


async def prepare_image(engine: Engine, image: str, service: str) -> None:
    """Make sure ``image`` is present: inspect it, pull it only when missing."""
    code, _ = await _run([engine.binary, "image", "inspect", image], 30)
    if code == 0:
        return
    code, output = await _run([engine.binary, "pull", image], 600)
    if code != 0:
        last = output.splitlines()[-1] if output else f"exit code {code}"
        raise EngineError(f"cannot prepare image {image} for service '{service}': {last}")


class ContainerLauncher(Launcher):
    """``<engine> run --rm --network=host`` of the service's image, attached."""

    prepares = True

    engine: Engine | None = None
    engine_ready: asyncio.Future[Engine] | None = None

    async def prepare(self, fresh: bool) -> None:
        """Wait for the engine, then prepare the image."""
        if self.engine_ready is None:
            raise EngineError(f"no container engine was chosen for service '{self.spec.name}'")
        self.engine = await self.engine_ready
        await prepare_image(self.engine, self.spec.image or "", self.spec.name)

    def launch(self) -> Launch:
        """The engine CLI running the container; its environment carries the values."""
        engine = self._engine()
        self.container = f"homeport-{self.spec.name}-{os.getpid()}-{secrets.token_hex(3)}"
        flags = [f"--env={key}" for key in sorted(self.spec.env)]
        argv = [
            engine.binary,
            "run",
            "--rm",
            "--name",
            self.container,
            "--label",
            f"homeport.state_dir={self.spec.state_dir}",
            *engine.run_flags(),
            *flags,
            self.spec.image or "",
            *self.spec.argv,
        ]
        return Launch(argv, child_env(self.spec.env), self.spec.cwd)

    async def run_exec(self, argv: list[str], timeout: float) -> Outcome:
        """Exec probes run inside the container."""
        engine = self._engine()
        return await check_exec([engine.binary, "exec", self.container, *argv], timeout)

    async def stop_hook(self, grace: float) -> None:
        """Ask the engine to stop the container (TERM, then KILL after the grace)."""
        engine = self._engine()
        await _run(
            [engine.binary, "stop", "-t", str(max(0, int(grace))), self.container], grace + 10
        )

    def _engine(self) -> Engine:
        if self.engine is None:
            raise EngineError(f"the container engine for '{self.spec.name}' is not ready")
        return self.engine
