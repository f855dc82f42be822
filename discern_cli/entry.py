"""The `discern` console script. An installed wheel carries the command line as
`discern_cli._app`; a source checkout (or an editable install) has it as `cli.py`."""

from __future__ import annotations


def main() -> None:
    try:
        from discern_cli._app import main as run
    except ImportError:
        from cli import main as run
    run()
