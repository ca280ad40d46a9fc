"""How the loader reports mistakes: one line per mistake, at the place the user must fix."""

from __future__ import annotations

import gc

import pytest

from homeport.errors import ConfigError
from homeport.model import load_platform_text
from homeport.model.loader import paused_gc


def problems(text: str) -> list[str]:
    """The lines a user reads for ``text``."""
    with pytest.raises(ConfigError) as caught:
        load_platform_text(text, env={})
    return str(caught.value).splitlines()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "name: demo\nservices:\n  a: {run: x, env: {F: {b: 1}}}\n",
            "homeport.yaml:3:24: services.a.env.F: got a mapping; expected string, integer, "
            "number or boolean",
            id="one mistake against a union is one line",
        ),
        pytest.param(
            "name: demo\nservices:\n  a: {run: [x, [y]]}\n",
            "homeport.yaml:3:16: services.a.run[1]: got a list; expected a valid string",
            id="the deepest union member wins",
        ),
        pytest.param(
            "name: demo\nhosts:\n  a: {adress: 10.0.0.1}\n",
            "homeport.yaml:3:7: unknown key 'adress' in hosts.a; did you mean 'address'?",
            id="a typo of a required key is not also a missing key",
        ),
        pytest.param(
            "name: demo\nservices:\n  a: {run: x, restart: sometimes}\n",
            "homeport.yaml:3:24: services.a.restart: got 'sometimes'; expected 'no', "
            "'on-failure' or 'always'",
            id="a shorthand is reported as written",
        ),
        pytest.param(
            "name: demo\nservices:\n  Web: {run: x}\n",
            "homeport.yaml:3:3: services: 'Web' is not a valid name; expected lowercase letters, "
            "digits, '-' or '_'",
            id="a bad name is reported at the key",
        ),
        pytest.param(
            'name: demo\nservices:\n  a: {run: "x}\n  b: {run: y}\n',
            "homeport.yaml:3:12: YAML syntax error: a quoted scalar starts here and is never "
            "closed; close it",
            id="an unclosed quote is reported where it opens",
        ),
        pytest.param(
            "name: demo\n? [a]\n: b\n",
            "homeport.yaml:2:3: a mapping key must be a plain name; use a string",
            id="a list as a key",
        ),
    ],
)
def test_one_line_at_the_right_place(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_paused_gc_restores_the_collector_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), paused_gc():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()
