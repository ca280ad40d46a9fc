"""The OCI client against httpx.MockTransport: pagination, media types, auth, errors.

(A test double here is one function, as httpx means it; the real registry is exercised in
tests/integration, but it runs without auth, so challenges are pinned here.)
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from homeport.registry.client import ACCEPT_MANIFESTS, Credentials, RegistryClient
from homeport.registry.errors import RegistryHttpError, RegistryUnreachable
from homeport.registry.images import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

DIGEST = "sha256:" + "a" * 64


def client_for(handler) -> RegistryClient:  # type: ignore[no-untyped-def]
    return RegistryClient("https://registry.test", transport=httpx.MockTransport(handler))


def test_catalog_and_tags_follow_link_pagination() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/v2/_catalog" and "last" not in request.url.params:
            return httpx.Response(
                200,
                json={"repositories": ["a", "b"]},
                headers={"link": '</v2/_catalog?last=b&n=2>; rel="next"'},
            )
        if request.url.path == "/v2/_catalog":
            return httpx.Response(200, json={"repositories": ["c"]})
        if request.url.path == "/v2/a/tags/list":
            return httpx.Response(200, json={"name": "a", "tags": None})
        return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})

    with client_for(handler) as client:
        assert client.repositories(page_size=2) == ["a", "b", "c"]
        assert client.tags("a") == []
        assert client.tags("missing") == []
        assert client.requests["catalog"] == 2
    assert seen[1] == "https://registry.test/v2/_catalog?last=b&n=2"


@pytest.mark.parametrize("media_type", [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST])
def test_manifests_of_every_type_are_read(media_type: str) -> None:
    if media_type in (OCI_INDEX, DOCKER_LIST):
        body = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [{"digest": "sha256:" + "1" * 64, "size": 10, "mediaType": OCI_MANIFEST}],
        }
    else:
        body = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"digest": "sha256:" + "c" * 64, "size": 5},
            "layers": [{"digest": "sha256:" + "d" * 64, "size": 7}],
        }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == ACCEPT_MANIFESTS
        return httpx.Response(
            200,
            content=json.dumps(body).encode(),
            headers={"content-type": media_type, "docker-content-digest": DIGEST},
        )

    with client_for(handler) as client:
        manifest = client.get_manifest("app", "dev")
        ref = client.head_manifest("app", "dev")
    assert manifest is not None and ref is not None
    assert manifest.digest == ref.digest == DIGEST
    assert manifest.media_type == media_type
    if manifest.is_index:
        assert [c.size for c in manifest.children] == [10]
    else:
        assert [b.size for b in manifest.blobs] == [5, 7]


def test_a_bearer_challenge_is_answered_once_per_repository_and_access() -> None:
    token_calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            token_calls.append(request)
            return httpx.Response(200, json={"token": f"t{len(token_calls)}"})
        if request.headers.get("authorization", "").startswith("Bearer t"):
            return httpx.Response(200, json={"name": "app", "tags": ["dev"]})
        scope = "repository:app:pull" if request.method == "GET" else "repository:app:delete"
        return httpx.Response(
            401,
            headers={
                "www-authenticate": f'Bearer realm="https://auth.test/token",'
                f'service="registry.test",scope="{scope}"'
            },
        )

    credentials = Credentials("ci", "s3cret")
    with RegistryClient(
        "https://registry.test",
        credentials=credentials,
        transport=httpx.MockTransport(handler),
    ) as client:
        assert client.tags("app") == ["dev"]
        assert client.tags("app") == ["dev"]
        assert len(token_calls) == 1
        assert token_calls[0].url.params["scope"] == "repository:app:pull"
        expected = "Basic " + base64.b64encode(b"ci:s3cret").decode()
        assert token_calls[0].headers["authorization"] == expected
    assert "s3cret" not in repr(credentials)


def test_basic_auth_answers_a_basic_challenge() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization", "").startswith("Basic "):
            return httpx.Response(200, json={})
        return httpx.Response(401, headers={"www-authenticate": 'Basic realm="registry"'})

    with RegistryClient(
        "https://registry.test",
        credentials=Credentials("u", "p"),
        transport=httpx.MockTransport(handler),
    ) as client:
        client.ping()
        client.ping()
        assert client.requests["auth_retry"] == 1  # the second ping sent credentials at once


@pytest.mark.parametrize(
    ("status", "method", "hint"),
    [
        (401, "GET", "REGISTRY_USERNAME"),
        (405, "DELETE", "storage.delete.enabled: true"),
        (500, "GET", "see the registry's log"),
    ],
)
def test_statuses_become_errors_that_say_what_to_do(status: int, method: str, hint: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"errors": [{"code": "UNSUPPORTED"}]})

    with client_for(handler) as client, pytest.raises(RegistryHttpError) as raised:
        if method == "DELETE":
            client.delete_manifest("app", DIGEST)
        else:
            client.tags("app") if status != 401 else client.ping()
    assert hint in str(raised.value)
    assert raised.value.status == status


def test_no_answer_is_reported_as_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with client_for(handler) as client, pytest.raises(RegistryUnreachable, match="--url"):
        client.ping()


def test_a_read_on_a_broken_kept_alive_connection_is_sent_once_more() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ReadError("connection reset", request=request)
        return httpx.Response(200, json={"name": "app", "tags": ["dev"]})

    with client_for(handler) as client:
        assert client.tags("app") == ["dev"]
        assert client.requests["transport_retry"] == 1
    assert calls == ["GET", "GET"]


def test_a_blob_redirected_to_storage_is_read_there_without_the_registrys_credentials() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        if request.url.host == "storage.test":
            return httpx.Response(200, content=b'{"created": null}')
        if not request.headers.get("authorization"):
            return httpx.Response(401, headers={"www-authenticate": 'Basic realm="registry"'})
        return httpx.Response(307, headers={"location": "https://storage.test/blob?sig=abc"})

    with RegistryClient(
        "https://registry.test",
        credentials=Credentials("u", "p"),
        transport=httpx.MockTransport(handler),
    ) as client:
        assert client.get_blob("app", DIGEST) == b'{"created": null}'
        assert client.requests["redirect"] == 1
    assert seen[-1] == ("https://storage.test/blob?sig=abc", None)
    assert seen[-2][1] is not None  # the registry itself got the credentials
