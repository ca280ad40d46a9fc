"""The registry kind: Debian's ``docker-registry`` on loopback, its data in the state dir.

With ``mirror:`` it runs as a pull-through cache of the upstream registry.
"""

from __future__ import annotations

import json
import shutil

from homeport.orchestrator.environment import child_env
from homeport.orchestrator.errors import OrchestratorError
from homeport.orchestrator.launchers import Launch, Launcher
from homeport.orchestrator.probes import Check, check_http

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
        home = self.spec.state_dir / "registry" / self.spec.name
        if fresh and home.exists():
            shutil.rmtree(home)
        (home / "data").mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "info"},
            "storage": {
                "filesystem": {"rootdirectory": str(home / "data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": f"127.0.0.1:{self.spec.endpoint.port}"},
        }
        if self.spec.mirror_upstream:
            config["proxy"] = {"remoteurl": self.spec.mirror_upstream}
        self.config = home / "config.yml"
        self.config.write_text(json.dumps(config, indent=2))  # JSON is YAML

    def launch(self) -> Launch:
        """The registry serving its config."""
        return Launch(
            [self.binary, "serve", str(self.config)], child_env(self.spec.env), self.spec.cwd
        )

    def builtin_check(self) -> Check:
        """Ready when ``GET /v2/`` answers 200."""
        port = self.spec.endpoint.port
        return lambda: check_http("127.0.0.1", port, "/v2/", 200, 2.0)
