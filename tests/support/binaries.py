"""Finding the binaries tests need: fail under CI when missing, skip with a reason elsewhere."""

from __future__ import annotations

import glob
import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_binary(name: str, *extra_dirs: str) -> str | None:
    """The path of ``name`` on PATH or in ``extra_dirs`` (globs allowed), or None."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in extra_dirs:
        for directory in sorted(glob.glob(pattern), reverse=True):
            candidate = os.path.join(directory, name)
            if os.access(candidate, os.X_OK):
                return candidate
    return None


def require_binary(name: str, *extra_dirs: str) -> str:
    """The binary's path; a test that lacks it fails under CI=true and skips otherwise."""
    path = find_binary(name, *extra_dirs)
    if path is None:
        message = f"{name} is not installed; run scripts/bootstrap"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


POSTGRES_BIN_DIRS = ("/usr/lib/postgresql/*/bin",)
