"""The only module that speaks the OCI distribution API (``/v2/...``).

Every request goes through :meth:`RegistryClient._request`, which counts it by kind, maps
statuses to :mod:`homeport.registry.errors`, and lets :class:`RegistryAuth` answer 401
challenges with HTTP basic credentials or a bearer token from the registry's token service.
The bytes travel on :mod:`homeport.registry.wire`: pooled keep-alive connections to the
registry, httpx for other hosts (token realm, blob redirects) and proxied registries.
"""

from __future__ import annotations

import base64
import re
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from homeport.registry.errors import RegistryError, RegistryHttpError, RegistryUnreachable
from homeport.registry.images import MANIFEST_TYPES, Manifest, parse_manifest
from homeport.registry.wire import (
    HttpxWire,
    KeepAliveWire,
    Reply,
    StaleConnection,
    WireError,
    keep_alive_possible,
    origin_of,
)

ACCEPT_MANIFESTS = ", ".join(MANIFEST_TYPES)
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "homeport-registry"


@dataclass(frozen=True)
class ManifestRef:
    """What a HEAD of a manifest tells: its digest, media type and size."""

    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or identity token) for basic or token auth."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"


class RegistryAuth:
    """Answers the registry's 401 challenge: Basic with credentials, or Bearer via its realm.

    Bearer tokens are cached per repository and access (pull, or push/delete), so one token
    serves every request of a kind to a repository; requests that need no auth cost nothing.
    """

    def __init__(self, credentials: Credentials | None = None, token: str | None = None) -> None:
        self.credentials = credentials
        self.static_token = token
        self._tokens: dict[tuple[str, bool], str] = {}
        self._basic = False

    def header(self, method: str, path: str) -> str | None:
        """The Authorization header to send, if a previous challenge taught us one."""
        if self.static_token:
            return f"Bearer {self.static_token}"
        token = self._tokens.get(_token_key(method, path))
        if token:
            return f"Bearer {token}"
        if self._basic and self.credentials:
            return _basic(self.credentials)
        return None

    def answer(
        self, fetch: Callable[[str, dict[str, str]], Reply], method: str, path: str, response: Reply
    ) -> bool:
        """Learn how to authenticate from a 401; True when the request is worth sending again.

        ``fetch(url, headers)`` GETs the token realm (usually another host).
        """
        if self.static_token:
            return False
        scheme, params = _parse_challenge(response.headers.get("www-authenticate", ""))
        if scheme == "basic" and self.credentials and not self._basic:
            self._basic = True
            return True
        if scheme != "bearer" or "realm" not in params:
            return False
        query = {k: v for k, v in params.items() if k in ("service", "scope") and v}
        headers = {"authorization": _basic(self.credentials)} if self.credentials else {}
        separator = "&" if "?" in params["realm"] else "?"
        got = fetch(params["realm"] + (separator + urlencode(query) if query else ""), headers)
        if got.status_code != 200:
            return False
        body = got.json()
        token = str(body.get("token") or body.get("access_token") or "")
        if not token or self._tokens.get(_token_key(method, path)) == token:
            return False
        self._tokens[_token_key(method, path)] = token
        return True


def _token_key(method: str, path: str) -> tuple[str, bool]:
    return _scope_of(path), method not in ("GET", "HEAD")


def _basic(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _scope_of(path: str) -> str:
    """The repository a /v2/ path addresses, which is what a token's scope covers."""
    match = re.match(r"^/v2/(.+?)/(manifests|blobs|tags)/", path)
    return match.group(1) if match else path


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


class RegistryClient:
    """A synchronous, thread-safe client of one registry; ``requests`` counts calls by kind."""

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        token: str | None = None,
        verify: bool | str = True,
        client_cert: tuple[str, str] | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 16,
    ) -> None:
        self.url = url.rstrip("/")
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._auth = RegistryAuth(credentials, token)
        tls = _ssl_context(verify, client_cert)
        self._other = HttpxWire(
            httpx.Client(
                base_url=self.url,
                verify=tls,
                timeout=timeout,
                transport=transport,
                limits=httpx.Limits(max_connections=max_connections),
                headers={"user-agent": USER_AGENT},
            )
        )
        self._wire: KeepAliveWire | None = None
        if transport is None and keep_alive_possible(self.url):
            secure = urlsplit(self.url).scheme == "https"
            self._wire = KeepAliveWire(
                self.url,
                ssl_context=tls if secure else None,
                timeout=timeout,
                user_agent=USER_AGENT,
            )

    def close(self) -> None:
        """Close the connections."""
        if self._wire is not None:
            self._wire.close()
        self._other.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ping(self) -> None:
        """Check that the URL is a distribution API (``GET /v2/`` answers 200)."""
        self._request("ping", "GET", "/v2/")

    def repositories(self, page_size: int = 1000) -> list[str]:
        """Every repository of the catalog, following ``Link: rel="next"`` pages."""
        names: list[str] = []
        for body in self._pages("catalog", "/v2/_catalog", page_size):
            names.extend(body.get("repositories") or [])
        return names

    def tags(self, repository: str, page_size: int = 1000) -> list[str]:
        """Every tag of ``repository``, following pagination; [] when it has none."""
        found: list[str] = []
        for body in self._pages("tags", f"/v2/{repository}/tags/list", page_size):
            found.extend(body.get("tags") or [])
        return found

    def head_manifest(self, repository: str, reference: str) -> ManifestRef | None:
        """The digest a tag (or digest) resolves to now, or None if the registry has none."""
        response = self._manifest("HEAD", repository, reference)
        if response is None:
            return None
        return ManifestRef(
            _digest_header(response, repository, reference),
            response.headers.get("content-type", "").split(";")[0],
            int(response.headers.get("content-length", "0")),
        )

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        """The parsed manifest a tag or digest names (any manifest or index type), or None."""
        response = self._manifest("GET", repository, reference)
        if response is None:
            return None
        digest = _digest_header(response, repository, reference)
        media_type = response.headers.get("content-type", "").split(";")[0]
        return parse_manifest(digest, media_type, response.content)

    def _manifest(self, method: str, repository: str, reference: str) -> Reply | None:
        """A manifest request accepting every manifest and index type; None on 404."""
        response = self._request(
            f"manifest_{method.lower()}",
            method,
            f"/v2/{repository}/manifests/{reference}",
            headers={"accept": ACCEPT_MANIFESTS},
            missing_ok=True,
        )
        return None if response.status_code == 404 else response

    def get_blob(self, repository: str, digest: str) -> bytes:
        """A blob's bytes (used for image configs, which are small)."""
        return self._request("blob_get", "GET", f"/v2/{repository}/blobs/{digest}").content

    def head_blob(self, repository: str, digest: str) -> int | None:
        """The size the registry serves for a blob, or None when it is missing."""
        response = self._request(
            "blob_head", "HEAD", f"/v2/{repository}/blobs/{digest}", missing_ok=True
        )
        if response.status_code == 404:
            return None
        return int(response.headers.get("content-length", "0"))

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """Delete a manifest by digest (and with it every tag on it); False if already gone."""
        response = self._request(
            "delete", "DELETE", f"/v2/{repository}/manifests/{digest}", missing_ok=True
        )
        return response.status_code != 404

    def writable(self, repository: str = "homeport-probe") -> bool:
        """Whether the registry accepts pushes now (a read-only one answers 405 to uploads)."""
        response = self._request(
            "upload_probe",
            "POST",
            f"/v2/{repository}/blobs/uploads/",
            ok=(202, 405, 503),
        )
        location = response.headers.get("location")
        if response.status_code == 202 and location:
            self._request("upload_cancel", "DELETE", location, ok=(204, 404))
        return response.status_code == 202

    def _pages(self, kind: str, path: str, page_size: int) -> Iterator[dict[str, Any]]:
        url: str | None = f"{path}?n={page_size}"
        while url:
            response = self._request(kind, "GET", url, missing_ok=kind == "tags")
            if response.status_code == 404:
                return
            yield response.json()
            match = _LINK_NEXT.search(response.headers.get("link", ""))
            url = urljoin(self.url + "/", match.group(1)) if match else None

    def _request(
        self,
        kind: str,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        missing_ok: bool = False,
        ok: tuple[int, ...] = (200, 201, 202, 204),
    ) -> Reply:
        with self._count_lock:
            self.requests[kind] += 1
        try:
            response = self._send_retrying(method, url, headers)
            if response.status_code == 401 and self._auth.answer(
                self._fetch_token, method, _path(url), response
            ):
                self._count("auth_retry")
                response = self._send(method, url, headers)
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location and method in ("GET", "HEAD"):
                # a registry on object storage redirects blob reads to the store itself
                self._count("redirect")
                response = self._follow(method, urljoin(self.url + "/", location), headers)
        except WireError as exc:
            raise RegistryUnreachable(
                f"registry {self.url} did not answer {method} {url}: {exc}; "
                "check --url, that the registry runs, and the TLS options"
            ) from exc
        if response.status_code in ok or (missing_ok and response.status_code == 404):
            return response
        raise _status_error(self.url, method, url, response)

    def _count(self, kind: str) -> None:
        with self._count_lock:
            self.requests[kind] += 1

    def _send_retrying(self, method: str, url: str, headers: dict[str, str] | None) -> Reply:
        """Send; a read (GET, HEAD) is sent once more if a kept-alive connection broke."""
        try:
            return self._send(method, url, headers)
        except StaleConnection:
            if method not in ("GET", "HEAD"):
                raise
            self._count("transport_retry")
            return self._send(method, url, headers)

    def _send(self, method: str, url: str, headers: dict[str, str] | None) -> Reply:
        sent = dict(headers or {})
        authorization = self._auth.header(method, _path(url))
        if authorization:
            sent["authorization"] = authorization
        if self._wire is not None and self._wire.serves(url):
            return self._wire.send(method, url, sent)
        return self._other.send(method, url, sent)

    def _follow(self, method: str, url: str, headers: dict[str, str] | None) -> Reply:
        """A redirected read: the registry's own URL as usual; another host without the
        registry's credentials (a presigned URL carries its own)."""
        if origin_of(url) == origin_of(self.url):
            return self._send(method, url, headers)
        return self._other.send(method, url, dict(headers or {}))

    def _fetch_token(self, url: str, headers: dict[str, str]) -> Reply:
        return self._other.send("GET", url, headers)


def _ssl_context(verify: bool | str, client_cert: tuple[str, str] | None) -> ssl.SSLContext:
    """The TLS settings both wires use: ``verify`` is a CA file or directory, or on/off."""
    if isinstance(verify, str):
        directory = Path(verify).is_dir()
        context = ssl.create_default_context(
            cafile=None if directory else verify, capath=verify if directory else None
        )
    else:
        context = httpx.create_ssl_context(verify=verify)
    if client_cert:
        context.load_cert_chain(*client_cert)
    return context


def _path(url: str) -> str:
    return urlsplit(url).path


def _digest_header(response: Reply, repository: str, reference: str) -> str:
    digest: str | None = response.headers.get("docker-content-digest")
    if digest:
        return digest
    if reference.startswith("sha256:"):
        return reference
    raise RegistryError(
        f"registry gave no Docker-Content-Digest for {repository}:{reference}; "
        "homeport needs a distribution-compatible registry"
    )


def _status_error(base: str, method: str, url: str, response: Reply) -> RegistryError:
    status = response.status_code
    detail = _error_detail(response)
    where = f"{method} {base}{url}" if url.startswith("/") else f"{method} {url}"
    if status == 401:
        hint = "give credentials in REGISTRY_USERNAME/REGISTRY_PASSWORD or REGISTRY_TOKEN"
    elif status == 403:
        hint = "the credentials lack permission for this repository"
    elif status == 405 and method == "DELETE":
        hint = "enable deletes in the registry (storage.delete.enabled: true) and restart it"
    elif status == 405:
        hint = "the registry refuses writes (read-only, or a pull-through cache)"
    else:
        hint = "see the registry's log"
    return RegistryHttpError(f"{where} answered {status}{detail}; {hint}", status)


def _error_detail(response: Reply) -> str:
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return ""
    codes = [str(e.get("code", "")) for e in errors if isinstance(e, dict)]
    return f" ({', '.join(c for c in codes if c)})" if codes else ""
