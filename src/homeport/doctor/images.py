"""Image tags: nothing deploys ``:latest``, and no two environments share a tag."""

from __future__ import annotations

from collections.abc import Iterator

from homeport.doctor import Finding, check, finding
from homeport.model import LoadedPlatform


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none (or is pinned by digest)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


@check("image-latest")
def no_latest_tag(loaded: LoadedPlatform) -> Iterator[Finding]:
    """``:latest`` moves under you: two deploys of 'the same' image run different code."""
    platform = loaded.platform
    for name, service in platform.services.items():
        if service.image and image_tag(service.image) == "latest":
            yield finding(
                loaded,
                ("services", name, "image"),
                severity="error",
                check_id="image-latest",
                message=f"service '{name}' uses the image tag ':latest', which changes under "
                "every push",
                fix="pin a version tag or a digest (image@sha256:...)",
            )
    for name, environment in platform.environments.items():
        if environment.image_tag.strip() == "latest":
            yield finding(
                loaded,
                ("environments", name, "image_tag"),
                severity="error",
                check_id="image-latest",
                message=f"environment '{name}' deploys the image tag 'latest'",
                fix=f"give it its own tag, e.g. image_tag: {name}",
            )


@check("image-tag-shared")
def environments_have_own_tags(loaded: LoadedPlatform) -> Iterator[Finding]:
    """Two environments on one tag race to overwrite it: one push takes both down."""
    owners: dict[str, str] = {}
    for name, environment in loaded.platform.environments.items():
        tag = environment.image_tag.strip()
        if tag not in owners:
            owners[tag] = name
            continue
        yield finding(
            loaded,
            ("environments", name, "image_tag"),
            severity="error",
            check_id="image-tag-shared",
            message=f"environments '{owners[tag]}' and '{name}' share the image tag '{tag}'; "
            "a push for one replaces what the other runs",
            fix=f"give each environment its own tag, e.g. image_tag: {name}",
        )
