"""LAN DNS overrides: a name sent to the LAN proxy needs a certificate there."""

from __future__ import annotations

from collections.abc import Iterator

from homeport.doctor import Finding, check, finding
from homeport.doctor.names import normalize
from homeport.model import LoadedPlatform


def certificate_bases(certificates: list[str]) -> set[str]:
    """The parents a set of wildcard certificates covers (``*.example.com`` -> example.com)."""
    return {normalize(name).removeprefix("*.") for name in certificates}


def override_covered(name: str, bases: set[str]) -> bool:
    """True when a wildcard certificate serves ``name`` (``*.zone``, ``host.zone`` or the apex)."""
    name = normalize(name)
    if name.startswith("*."):
        return name[2:] in bases
    parent = name.split(".", 1)[1] if "." in name else ""
    return parent in bases or name in bases


@check("localdns-wildcard-cert")
def overrides_have_certificates(loaded: LoadedPlatform) -> Iterator[Finding]:
    """A LAN override without a matching certificate breaks HTTPS for everyone on the LAN."""
    dns = loaded.platform.dns
    if dns is None:
        return
    bases = certificate_bases(dns.wildcard_certs)
    for index, override in enumerate(dns.overrides):
        if override_covered(override.name, bases):
            continue
        parent = normalize(override.name).removeprefix("*.")
        if not override.name.startswith("*.") and "." in parent:
            parent = parent.split(".", 1)[1]
        yield finding(
            loaded,
            ("dns", "overrides", index, "name"),
            severity="warning",
            check_id="localdns-wildcard-cert",
            message=f"the LAN override for '{override.name}' sends browsers to the LAN proxy, "
            "which has no certificate for it: HTTPS breaks on the LAN only",
            fix=f"add '*.{parent}' to dns.wildcard_certs (and issue that certificate), "
            "or drop the override",
        )
