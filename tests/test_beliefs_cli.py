"""The beliefs commands, driven through a local typer app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from discern_cli.beliefs import TOLERANCE_HELP, beliefs_app, converge
from router.beliefs import FEATURES

ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "beliefs"
DATA = Path(__file__).parent / "data" / "beliefs"

app = typer.Typer()
app.command("converge")(converge)
app.add_typer(beliefs_app, name="beliefs")
runner = CliRunner()


def run(*args: str) -> typer.testing.Result:  # type: ignore[name-defined]
    return runner.invoke(app, [str(a) for a in args])


def test_check_ok_and_bad() -> None:
    ok = run("beliefs", "check", SHIPPED / "stoicism.yaml", SHIPPED / "buddhism.yaml")
    assert ok.exit_code == 0, ok.output
    assert "14 concepts" in ok.output
    bad = run("beliefs", "check", DATA / "unknown_concept.yaml")
    assert bad.exit_code == 2
    assert "unknown_concept.yaml:6:19" in bad.output
    assert "Traceback" not in bad.output


def test_show_tables() -> None:
    result = run("beliefs", "show", SHIPPED / "stoicism.yaml")
    assert result.exit_code == 0
    assert "concepts" in result.output and "causal edges" in result.output
    assert "examine_impressions" in result.output


def test_schema_is_json() -> None:
    result = run("beliefs", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert set(schema) == {"belief_system", "mapping"}


def test_converge_json_with_mapping() -> None:
    result = run("converge", SHIPPED / "stoicism.yaml", SHIPPED / "buddhism.yaml",
                 "--mapping", SHIPPED / "stoicism-buddhism.yaml", "--null", "19", "--json")
    assert result.exit_code == 0, result.output
    d = json.loads(result.output)
    assert d["version"] == 1
    assert d["verdict"] in ("converged", "explained-by-mapping-freedom", "not-converged")
    for key in ("overall", "features", "edges", "distance_ratio", "dispositions"):
        value = d["agreement"][key]
        assert value is None or 0.0 <= value <= 1.0
        assert key in d["intervals"]
    for null in ("random", "unrelated"):
        assert {"k", "mean", "p95"} <= set(d["nulls"][null])
        assert d["nulls"][null]["k"] == 19
    assert 0 < d["p_value"] <= 1 and 0 < d["p_value_random"] <= 1
    assert len(d["mapping"]) == 13 and set(d["mapping"][0]) == {"a", "b"}


def test_converge_default_search_says_so(tmp_path: Path) -> None:
    svg = tmp_path / "maps.svg"
    result = run("converge", SHIPPED / "stoicism.yaml", SHIPPED / "rationalism.yaml",
                 "--null", "9", "--draws", "10", "--plot", svg)
    assert result.exit_code == 0, result.output
    assert "no --mapping given" in result.output
    assert "What these figures do not say" in result.output
    text = svg.read_text()
    assert text.startswith("<svg") and "stoicism" in text


def test_converge_png_without_matplotlib(tmp_path: Path) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        result = run("converge", SHIPPED / "stoicism.yaml", SHIPPED / "buddhism.yaml",
                     "--null", "3", "--draws", "0", "--plot", tmp_path / "x.png")
        assert result.exit_code == 2
        assert "matplotlib" in result.output
    else:  # pragma: no cover
        pytest.skip("matplotlib is installed")


@pytest.mark.parametrize("args, text", [
    (("beliefs/stoicism.yaml", DATA / "no_edges.yaml"), "no causal edges"),
    (("beliefs/stoicism.yaml", "beliefs/buddhism.yaml", "--mapping", DATA / "map_missing.yaml"),
     "map_missing.yaml:2:"),
    ((DATA / "small_a.yaml", DATA / "small_a.yaml", "--mapping", DATA / "map_twice.yaml"),
     "map_twice.yaml:3:17"),
    ((DATA / "out_of_range.yaml", "beliefs/buddhism.yaml"), "out_of_range.yaml:5:"),
    ((DATA / "malformed.yaml", "beliefs/buddhism.yaml"), "malformed.yaml:"),
    ((DATA / "small_a.yaml", DATA / "small_a.yaml", "--mapping", DATA / "map_empty.yaml"),
     "pairs no concepts"),
    (("beliefs/stoicism.yaml", "beliefs/buddhism.yaml", "--plot", "x.pdf"), "`.svg` or `.png`"),
])
def test_converge_bad_input_exits_2(args: tuple[object, ...], text: str) -> None:
    resolved = [str(ROOT / a) if isinstance(a, str) and a.startswith("beliefs/") else str(a) for a in args]
    result = run("converge", *resolved, "--null", "3", "--draws", "0")
    assert result.exit_code == 2, result.output
    assert text in result.output
    assert "Traceback" not in result.output


def test_tolerance_help_matches_features() -> None:
    for feature in FEATURES:
        assert re.search(rf"{feature.name} ±{feature.tolerance:.2f}", TOLERANCE_HELP), feature.name
    result = run("converge", "--help")
    assert "Exit codes" in result.output and "tolerances" in result.output.lower()
