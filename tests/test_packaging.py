"""The installed wheel: a fresh environment gets a working `discern` that finds the
shipped tools and policies from any working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=600)
    [wheel] = list((base / "dist").glob("discernment-*.whl"))
    venv.create(base / "env", with_pip=True)
    python = base / "env" / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return base / "env" / "bin"


def test_installed_command_routes_from_another_directory(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(installed / "discern"), "route", "--no-audit", "--set", "safety_risk=true", "--json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("DISCERN_")})
    assert done.returncode == 0, done.stderr
    d = json.loads(done.stdout)
    assert d["tool"] == "seek-professional-help" and d["policy"]["name"] == "default"


def test_installed_library_routes_with_the_shipped_policy(installed: Path, tmp_path: Path) -> None:
    code = ("from router import Router; import router, pathlib; d = Router.load().route({'goal': 'decide'}); "
            "print(d.tool is not None, len(d.ranking), 'site-packages' in router.__file__)")
    done = subprocess.run([str(installed / "python"), "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "28", "True"]


def test_wheel_carries_no_bare_cli_module(installed: Path) -> None:
    site = next((installed.parent / "lib").glob("python*/site-packages"))
    assert not (site / "cli.py").exists()
    assert (site / "router" / "py.typed").exists()
    assert (site / "router" / "_shipped" / "policies" / "default.yaml").exists()
