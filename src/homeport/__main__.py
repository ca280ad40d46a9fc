"""``python -m homeport``: the same as the ``homeport`` command."""

from homeport.cli.main import run

run()
