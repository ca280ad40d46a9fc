"""Finding the engines' client tools on PATH or where Debian installs them."""

from __future__ import annotations

import glob
import os
import shutil

from homeport.seed.errors import SeedError

_EXTRA_DIRS = ("/usr/lib/postgresql/*/bin",)
_PACKAGES = {
    "pg_restore": "postgresql-client",
    "psql": "postgresql-client",
    "redis-server": "redis-server",
    "mariadb": "mariadb-client",
}


def find_tool(name: str, *alternatives: str) -> str:
    """The path of ``name`` (or of the first alternative found); SeedError naming the package."""
    for candidate in (name, *alternatives):
        found = shutil.which(candidate)
        if found:
            return found
        for directory in sorted((d for p in _EXTRA_DIRS for d in glob.glob(p)), reverse=True):
            path = os.path.join(directory, candidate)
            if os.access(path, os.X_OK):
                return path
    package = _PACKAGES.get(name, name)
    raise SeedError(f"{name} is not installed; install {package} (scripts/bootstrap does)")
