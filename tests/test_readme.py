"""The README's commands are the ones CI runs."""

from __future__ import annotations

import re

from conftest import ROOT


def fenced_commands(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    test_command = next(c for c in fenced_commands(readme) if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_readme_install_command_routes_without_configuration() -> None:
    readme = (ROOT / "README.md").read_text()
    main = fenced_commands(readme)[0]
    assert "pip install ." in main and "discern route" in main
