"""The registry kind: Debian's ``docker-registry`` on loopback, its data in the state dir.

With ``mirror:`` it runs as a pull-through cache of the upstream registry. Its configuration is
the one ``homeport registry`` renders (``registry.server.render_config``), written anew at every
start: while ``homeport registry gc --service NAME`` holds the read-only marker, the restart it
asks for through the control API comes up read-only, and the next one writable again.
"""

from __future__ import annotations

import shutil

from homeport.orchestrator.environment import child_env
from homeport.orchestrator.errors import OrchestratorError
from homeport.orchestrator.launchers import Launch, Launcher
from homeport.orchestrator.probes import Check, check_http
from homeport.registry.server import managed_paths, registry_environment, render_config

REGISTRY_BINARIES = ("docker-registry", "registry")


class RegistryLauncher(Launcher):
    """``docker-registry serve <state>/registry/<name>/config.yml``; ready when /v2/ answers."""

    prepares = True

    async def prepare(self, fresh: bool) -> None:
        """Find the binary and write the config (storage, address, delete, proxy)."""
        binary = next(filter(None, (shutil.which(b) for b in REGISTRY_BINARIES)), None)
        if binary is None:
            raise OrchestratorError(
                "docker-registry is not installed; install it with "
                "'apt-get install docker-registry' or scripts/bootstrap"
            )
        self.binary = binary
        self.paths = managed_paths(self.spec.state_dir, self.spec.name)
        if fresh and self.paths.home.exists():
            shutil.rmtree(self.paths.home)
        earlier = self.paths.home / "data"  # where blobs were kept before 2026-11-27
        if earlier.is_dir() and not self.paths.storage.exists():
            earlier.rename(self.paths.storage)
        self.paths.storage.mkdir(parents=True, exist_ok=True)
        self.paths.readonly_marker.unlink(missing_ok=True)  # left by a gc that was interrupted

    def launch(self) -> Launch:
        """The registry serving a config rendered now: read-only while gc holds its marker."""
        readonly = self.paths.readonly_requested
        self.paths.config.write_text(
            render_config(
                self.paths.storage,
                self.spec.endpoint.port,
                readonly=readonly,
                proxy_upstream=self.spec.mirror_upstream,
            )
        )
        if readonly:
            self.note("starting read-only: homeport registry gc is collecting garbage")
        return Launch(
            [self.binary, "serve", str(self.paths.config)],
            registry_environment(child_env(self.spec.env)),  # Go's collector tuned (server.py)
            self.spec.cwd,
        )

    def builtin_check(self) -> Check:
        """Ready when ``GET /v2/`` answers 200."""
        port = self.spec.endpoint.port
        return lambda: check_http("127.0.0.1", port, "/v2/", 200, 2.0)
