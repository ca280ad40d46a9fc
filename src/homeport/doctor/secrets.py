"""Secrets in clear: passwords, tokens and keys belong in the environment or the secret store."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from homeport.doctor import Finding, check, finding
from homeport.model import LoadedPlatform
from homeport.model.loader import PathKey
from homeport.model.references import REFERENCE

_SECRET_KEY = re.compile(
    r"(?:^|_)(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|"
    r"SECRET_?KEY|CLIENT_SECRET|CREDENTIALS?)(?:_|$)"
)
# Keys that name where a secret lives, or how it behaves, rather than holding it.
_NOT_A_SECRET_KEY = re.compile(
    r"_(?:FILE|PATH|DIR|URL|URI|NAME|TTL|TIMEOUT|EXPIRY|EXPIRES|HEADER|MOUNT|ENDPOINT|LENGTH)$"
)
_SECRET_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,})")),
    ("a GitLab token", re.compile(r"\bglpat-[\w-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[\w-]{10,}")),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Google API key", re.compile(r"\bAIza[\w-]{35}")),
    (
        "an API secret key",
        re.compile(r"\b[sr]k[-_](?:live_|test_|ant-|proj-)?(?=[\w-]*\d)[\w-]{32,}"),
    ),
    ("a Vault token", re.compile(r"\bhv[sbr]\.[\w-]{20,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")),
)
_ANY_SECRET_VALUE = re.compile(
    "|".join(f"(?P<k{i}>{pattern.pattern})" for i, (_, pattern) in enumerate(_SECRET_VALUES))
)
_URL_PASSWORD = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*:([^@/\s]+)@")
# Values that point at the secret store or a file instead of holding the secret.
_POINTERS = ("vault:", "openbao:", "file:", "env:")


def _leaves(data: Any, path: PathKey) -> Iterator[tuple[PathKey, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))
    else:
        yield path, data


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """True for a key that names a secret (DB_PASSWORD, API_KEY, token), not its location."""
    name = re.sub(r"[^A-Z0-9]+", "_", key.upper())
    return bool(_SECRET_KEY.search(name)) and not _NOT_A_SECRET_KEY.search(name)


def _only_references(text: str) -> bool:
    return not REFERENCE.sub("", text).strip()


def secret_kind(key: str | int | None, value: Any) -> str | None:
    """What secret ``value`` (under ``key``) looks like, or None when it looks harmless."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value)
    if not text.strip() or _only_references(text) or text.startswith(_POINTERS):
        return None
    found = _ANY_SECRET_VALUE.search(text)
    if found and found.lastgroup:
        return _SECRET_VALUES[int(found.lastgroup[1:])][0]
    password = _URL_PASSWORD.match(text) if "@" in text else None
    if password and not _only_references(password.group(1)):
        return "a URL with a password"
    if isinstance(key, str) and is_secret_key(key):
        return f"a secret (its key is {key})"
    return None


@check("secret-in-clear")
def no_secret_in_clear(loaded: LoadedPlatform) -> Iterator[Finding]:
    """A secret written in the file ends up in git, in logs and in every copy of the file."""
    data = loaded.data or loaded.platform.model_dump(mode="json", by_alias=True, exclude_unset=True)
    interpolated = loaded.source.interpolated
    for path, value in _leaves(data, ()):
        if path in interpolated:
            continue
        kind = secret_kind(path[-1] if path else None, value)
        if kind is None:
            continue
        where = ".".join(str(p) for p in path)
        yield finding(
            loaded,
            path,
            severity="error",
            check_id="secret-in-clear",
            message=f"{where} holds {kind} in clear",
            fix="move it to the environment (${NAME}) or the secret store, and rotate it",
        )
