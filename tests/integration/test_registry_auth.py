"""Basic auth against the real distribution registry (htpasswd), not a mock: the client answers
the registry's challenge with credentials, and without them says which variables to set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
from tests.support.registry import registry_with

from homeport.registry.client import Credentials, RegistryClient
from homeport.registry.errors import RegistryError


@pytest.fixture
def locked_registry(tmp_path: Path) -> Iterator[str]:
    htpasswd = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(b"s3cret-for-test", bcrypt.gensalt(rounds=4)).decode()
    htpasswd.write_text(f"ci:{hashed}\n")

    def with_auth(config: dict[str, Any]) -> None:
        config["auth"] = {"htpasswd": {"realm": "homeport-test", "path": str(htpasswd)}}

    with registry_with(tmp_path, with_auth) as port:
        yield f"http://127.0.0.1:{port}"


def test_credentials_answer_the_registrys_basic_challenge(locked_registry: str) -> None:
    assert httpx.get(f"{locked_registry}/v2/", timeout=5).status_code == 401
    with RegistryClient(
        locked_registry, credentials=Credentials("ci", "s3cret-for-test")
    ) as client:
        client.ping()
        assert client.tags("nothing-here") == []


def test_without_credentials_the_error_says_what_to_set(locked_registry: str) -> None:
    with RegistryClient(locked_registry) as client, pytest.raises(RegistryError) as caught:
        client.ping()
    assert "REGISTRY_USERNAME" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_wrong_password_is_refused_and_not_echoed(locked_registry: str) -> None:
    wrong = Credentials("ci", "not-the-password")
    with (
        RegistryClient(locked_registry, credentials=wrong) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.ping()
    assert "not-the-password" not in str(caught.value)
