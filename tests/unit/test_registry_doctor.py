"""The registry-mirror doctor check: what dockerd does with a mirror, and pushes to one."""

from __future__ import annotations

from homeport.doctor import registered_checks
from homeport.model import load_platform_text


def lines(text: str) -> list[str]:
    found = sorted(registered_checks()["registry-mirror"](load_platform_text(text, env={})))
    return [str(f).removeprefix("homeport.yaml:") for f in found]


def test_a_mirror_of_another_registry_is_never_used_by_dockerd() -> None:
    text = (
        "name: demo\nservices:\n  cache:\n    kind: registry\n"
        "    mirror: {upstream: 'https://mcr.microsoft.com'}\n"
    )
    (line,) = lines(text)
    assert line.startswith("5:13: warning [registry-mirror] mirror 'cache' caches")
    assert "only for Docker Hub images, so app hosts never pull through it" in line


def test_a_docker_hub_mirror_gets_the_general_warning() -> None:
    text = (
        "name: demo\nservices:\n  hub:\n    kind: registry\n"
        "    mirror: {upstream: 'https://registry-1.docker.io'}\n"
    )
    (line,) = lines(text)
    assert "pushes to a pull-through cache fail" in line


def test_pushing_to_the_mirror_is_flagged_where_it_is_written() -> None:
    text = (
        "name: demo\nregistry:\n  url: http://10.0.0.5:5001\n  mirror: http://10.0.0.5:5001\n"
        "services:\n  api:\n    run: app\n    image: 10.0.0.5:5001/team/api\n"
    )
    found = lines(text)
    assert len(found) == 3
    assert found[0].startswith("3:8: warning [registry-mirror] registry.url and registry.mirror")
    assert found[1].startswith("4:11: warning [registry-mirror] mirror http://10.0.0.5:5001")
    assert found[2].startswith(
        "8:12: warning [registry-mirror] service api's image is on the mirror"
    )
