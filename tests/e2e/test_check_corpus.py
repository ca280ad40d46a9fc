"""`homeport check` on the corpus of broken platform files: each mistake is one located line.

Every file under tests/corpus/broken/ holds one real mistake and says on its first line what the
user must read: ``# expect: LINE:COL: substring``. Every file goes through the real ``homeport``
app (the command line parsing, the error reporting, the exit code) in this process; a sample of
one file per kind of mistake also runs as its own ``python -m homeport`` process, two at a time.
Starting the CLI costs about a second of CPU per process here, so running all of them as
processes would take most of the suite's budget: set HOMEPORT_CHECK_CORPUS_ALL=1 to do it anyway.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from homeport.cli.main import app

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "broken"
FILES = sorted(CORPUS.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$")
# One file per kind of mistake: YAML syntax, file shape, unknown key, wrong type, reference,
# cycle, unset variable, and the doctor's errors.
SAMPLE = (
    "yaml-unclosed-quote",
    "not-a-mapping",
    "typo-wait-for",
    "wrong-type-port-word",
    "wait-for-nothing",
    "dependency-cycle",
    "env-unset-variable",
    "tunnel-cname-unproxied",
    "secret-password-in-env",
)
SUBPROCESS_FILES = (
    FILES
    if os.environ.get("HOMEPORT_CHECK_CORPUS_ALL") == "1"
    else [f for f in FILES if f.stem in SAMPLE]
)


@dataclass(frozen=True)
class Expectation:
    """What the first line of a corpus file promises."""

    line: int
    column: int
    substring: str


def expectation(path: Path) -> Expectation:
    """Parse the ``# expect:`` comment of a corpus file."""
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    match = EXPECT.match(first)
    assert match, f"{path.name}: first line must be '# expect: LINE:COL: text', got {first!r}"
    return Expectation(int(match.group(1)), int(match.group(2)), match.group(3))


def without_corpus_variables() -> dict[str, str]:
    """The environment minus HOMEPORT_CORPUS_*, which corpus files expect to be unset."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HOMEPORT_CORPUS_")}


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    """`homeport check -f FILE` in its own process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "homeport", "check", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=without_corpus_variables(),
        cwd=CORPUS,
    )


@pytest.fixture(scope="module")
def results() -> Iterator[dict[Path, subprocess.CompletedProcess[str]]]:
    """Every corpus file checked once, two processes at a time (2 cores shared by everyone)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield dict(zip(SUBPROCESS_FILES, pool.map(run_check, SUBPROCESS_FILES), strict=True))


def test_the_corpus_is_large_enough() -> None:
    assert len(FILES) >= 40


def assert_one_located_line(path: Path, code: int, output: str) -> None:
    """Exit 1, no traceback, exactly one FILE:LINE:COL line, the promised place and text."""
    expected = expectation(path)
    assert code == 1, output
    assert "Traceback" not in output
    located = re.compile(rf"^{re.escape(str(path))}:(\d+):(\d+): (.*)$")
    problems = [m for m in map(located.match, output.splitlines()) if m]
    assert len(problems) == 1, f"one line per problem, got:\n{output}"
    line, column, message = problems[0].groups()
    assert (int(line), int(column)) == (expected.line, expected.column), output
    assert expected.substring in message, output
    others = [ln for ln in output.splitlines() if not located.match(ln)]
    # Besides the problem, only the doctor's summary line may appear.
    assert all(ln.startswith(f"{path}: ") and " errors, " in ln for ln in others), output


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_broken_file_gets_its_one_line_error(path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["check", "-f", str(path)],
        env={k: None for k in os.environ if k.startswith("HOMEPORT_CORPUS_")},
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert_one_located_line(path, result.exit_code, result.stdout + result.stderr)


@pytest.mark.parametrize("path", SUBPROCESS_FILES, ids=[f.stem for f in SUBPROCESS_FILES])
def test_real_command_on_broken_file(
    path: Path, results: dict[Path, subprocess.CompletedProcess[str]]
) -> None:
    result = results[path]
    assert_one_located_line(path, result.returncode, result.stdout + result.stderr)
