"""The loader: values keep their line and column, ${ENV} interpolation, shapes of bad files."""

from __future__ import annotations

import pytest

from homeport.errors import ConfigError
from homeport.model import load_platform_text
from homeport.model.loader import load_text

MINIMAL = "name: demo\nservices:\n  web:\n    run: python -m http.server {web.port}\n"


def test_every_value_keeps_its_line_and_column() -> None:
    loaded = load_text(MINIMAL, "p.yaml")
    assert loaded.source.values[("services", "web", "run")].line == 4
    assert loaded.source.values[("services", "web", "run")].column == 10
    assert loaded.source.keys[("services", "web")].line == 3


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("name: ${N}", {"N": "abc"}, "abc"),
        ("name: ${N:-fallback}", {}, "fallback"),
        ("name: ${N:-fallback}", {"N": ""}, "fallback"),
        ("name: x${N}y", {"N": "-"}, "x-y"),
        ("name: a$$b", {}, "a$b"),
    ],
)
def test_environment_interpolation(text: str, env: dict[str, str], expected: str) -> None:
    assert load_text(text, "p.yaml", env=env).data["name"] == expected


def test_unset_variable_names_the_variable_at_its_place() -> None:
    with pytest.raises(ConfigError) as caught:
        load_platform_text(
            "name: demo\nedge:\n  account_id: ${CF_ACCOUNT}\n  tunnel: {id: t}\n", env={}
        )
    assert "p.yaml" not in str(caught.value)
    assert str(caught.value).startswith("homeport.yaml:3:15: environment variable CF_ACCOUNT")


def test_merge_keys_expand_with_own_keys_winning() -> None:
    text = (
        "name: demo\nx-base: &base {run: a, restart: always}\n"
        "services:\n  web:\n    <<: *base\n    run: b\n"
    )
    data = load_text(text, "p.yaml").data
    assert data["services"]["web"] == {"run": "b", "restart": "always"}


def test_all_problems_are_reported_at_once() -> None:
    text = "name: demo\nservices:\n  a: {run: x, wait_for: [nope]}\n  b: {kind: container}\n"
    with pytest.raises(ConfigError) as caught:
        load_platform_text(text)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("homeport.yaml:3:26: 'nope' in wait_for")
    assert lines[1].startswith("homeport.yaml:4:3: service 'b' of kind container needs 'image'")
