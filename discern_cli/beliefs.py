"""`discern beliefs check|show|schema` and `discern converge`.

The library (numpy, scipy) is imported inside the commands so that other commands start
fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from router.errors import DiscernError

from .common import EXIT_CODES_HELP, console, emit_json, err_console, guarded, working

if TYPE_CHECKING:
    from router.beliefs import Comparison

#: kept in step with router.beliefs.measures.FEATURES (a test checks it)
TOLERANCE_HELP = (
    "Feature tolerances: out ±0.15, in ±0.15 (shares of the other concepts caused / causing "
    "directly), reach ±0.25 (share reached through chains), value ±0.40, good ±0.50 with the "
    "same sign (tanh of the damped total effect on what the system values)."
)

beliefs_app = typer.Typer(
    help="Belief-system files: check them, show them, print their schema.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
)


@beliefs_app.command("check")
@guarded
def check(
    files: list[Path] = typer.Argument(..., help="Belief-system YAML files."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Validate belief-system files; every problem is reported with file, line and column.

    Example: discern beliefs check beliefs/stoicism.yaml beliefs/buddhism.yaml
    """
    from router.beliefs import load_belief_system

    problems: list[Any] = []
    checked: list[dict[str, Any]] = []
    for path in files:
        try:
            system = load_belief_system(path)
        except DiscernError as error:
            problems.extend(error.problems)
            checked.append({"file": str(path), "ok": False})
            continue
        checked.append({"file": str(path), "ok": True, "name": system.name,
                        "concepts": system.n, "edges": len(system.edges)})
        if not json_out:
            note = "" if system.edges else " (no causal edges: nothing to compare)"
            console.print(f"ok {path}: `{system.name}`, {system.n} concepts, "
                          f"{len(system.edges)} edges{note}", markup=False)
    if json_out:
        emit_json({"files": checked, "problems": [
            {"message": p.message, "location": str(p.location) if p.location else None, "hint": p.hint}
            for p in problems]})
    if problems:
        if not json_out:
            for p in problems:
                err_console.print(f"[bold red]error[/]: {p}", soft_wrap=True)
        raise typer.Exit(2)


check.__doc__ = (check.__doc__ or "") + "\n" + EXIT_CODES_HELP


@beliefs_app.command("show")
@guarded
def show(
    file: Path = typer.Argument(..., help="A belief-system YAML file."),
) -> None:
    """Show a belief system's concepts and causal edges as tables.

    Example: discern beliefs show beliefs/stoicism.yaml
    """
    from router.beliefs import load_belief_system

    system = load_belief_system(file)
    head = f"[bold]{system.name}[/]" + (f" {system.version}" if system.version else "")
    console.print(head)
    if system.description:
        console.print(system.description.strip(), markup=False)
    for source in system.sources:
        console.print(f"  source: {source}", markup=False)
    concepts = Table(title="concepts")
    for col in ("id", "kind", "value", "label"):
        concepts.add_column(col, justify="right" if col == "value" else "left")
    for c in system.concepts:
        concepts.add_row(c.id, c.kind, f"{c.value:+.2f}", c.label or "")
    console.print(concepts)
    edges = Table(title="causal edges")
    for col in ("from", "to", "w", "p", "why"):
        edges.add_column(col, justify="right" if col in ("w", "p") else "left", overflow="fold")
    for e in system.edges:
        edges.add_row(e.source, e.target, f"{e.w:+.2f}", "" if e.p is None else f"{e.p:.2f}", e.why or "")
    console.print(edges)


show.__doc__ = (show.__doc__ or "") + "\n" + EXIT_CODES_HELP


@beliefs_app.command("schema")
@guarded
def schema() -> None:
    """Print the JSON Schema of belief-system files and of mapping files.

    Example: discern beliefs schema > beliefs.schema.json
    """
    from router.beliefs import json_schemas

    emit_json(json_schemas())


schema.__doc__ = (schema.__doc__ or "") + "\n" + EXIT_CODES_HELP


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _report(result: Comparison) -> None:
    d = result.to_dict()
    ag = d["agreement"]
    colour = {"converged": "green", "explained-by-mapping-freedom": "yellow"}.get(result.verdict, "red")
    console.print(f"[bold]{result.a.name}[/] vs [bold]{result.b.name}[/]: "
                  f"[bold {colour}]{result.verdict}[/]")
    console.print(f"mapping: {len(result.mapping)} pairs, {result.search_reason}", markup=False)
    pairs = Table(title="mapped pairs (features: out, in, reach, value, good)")
    for col in ("a", "b", "agree", "features that disagree"):
        pairs.add_column(col)
    for p in result.pairs:
        pairs.add_row(p.a, p.b, f"{p.share:.0%}", ", ".join(p.disagreeing()) or "-")
    console.print(pairs)
    figures = Table(title="agreement (95% interval over robustness draws)")
    for col in ("figure", "value", "interval", "meaning"):
        figures.add_column(col)
    meanings = {
        "overall": "(features×coverage + edges + weights) / 3; the figure searched and tested",
        "features": "share of concept features within tolerance, over mapped pairs",
        "coverage": "mapped pairs / concepts of the smaller system",
        "edges": "signed-edge F1 among mapped concepts",
        "weights": "weighted edge agreement over both whole maps",
        "distance_ratio": "Langfield-Smith & Wirth distance ratio (0 = same map)",
        "dispositions": "share of situations where corresponding actions are favoured",
        "dispositions_rank": "mean rank correlation of action gains (-1..1)",
    }
    for name, meaning in meanings.items():
        iv = d["intervals"].get(name)
        figures.add_row(name, _fmt(ag.get(name)), "" if iv is None else f"[{iv[0]:.3f}, {iv[1]:.3f}]",
                        meaning)
    console.print(figures)
    if result.dispositions.note:
        console.print(f"dispositions not measured: {result.dispositions.note}", markup=False)
    nulls = Table(title="mapping freedom (overall agreement)")
    for col in ("null", "k", "mean", "95th pct", "p-value"):
        nulls.add_column(col)
    for null, label in ((result.random, "random mappings"), (result.unrelated, "unrelated systems (best mapping)")):
        nulls.add_row(label, str(null.k), f"{null.mean:.3f}", f"{null.p95:.3f}", f"{null.p_value:.3f}")
    console.print(nulls)
    console.print(f"observed {result.figures.overall:.3f}; mapping-freedom-adjusted score "
                  f"{result.adjusted:+.3f}", markup=False)
    console.print(TOLERANCE_HELP, markup=False, style="dim")
    from router.beliefs import CAVEAT

    console.print(CAVEAT, markup=False)


@guarded
def converge(
    a: Path = typer.Argument(..., help="First belief-system file."),
    b: Path = typer.Argument(..., help="Second belief-system file."),
    mapping: Path | None = typer.Option(None, "--mapping", "-m", help="Judge this mapping file."),
    search: bool = typer.Option(False, "--search", help="Find a mapping (the default without --mapping)."),
    null: int = typer.Option(99, "--null", min=1, max=100_000, help="Samples in each null."),
    seed: int = typer.Option(0, "--seed", help="Seed for nulls, search and robustness draws."),
    draws: int = typer.Option(200, "--draws", min=0, max=100_000, help="Robustness draws."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    plot: Path | None = typer.Option(None, "--plot", help="Draw both maps to FILE.svg (.png needs matplotlib)."),
) -> None:
    """Measure how far two belief systems agree under a mapping, and how much of that
    agreement the freedom of choosing the mapping would produce between unrelated systems.

    Example: discern converge beliefs/stoicism.yaml beliefs/buddhism.yaml --mapping beliefs/stoicism-buddhism.yaml
    """
    from router.beliefs import compare, load_belief_system, load_mapping
    from router.beliefs.plot import write_plot

    if mapping is not None and search:
        raise DiscernError("give either `--mapping` or `--search`, not both")
    if plot is not None and plot.suffix.lower() not in (".svg", ".png"):
        raise DiscernError(f"cannot write `{plot}`: the plot must be an `.svg` or `.png` file")
    sa = load_belief_system(a)
    sb = load_belief_system(b)
    m = load_mapping(mapping, sa, sb) if mapping is not None else None
    stage = "searching for a mapping, then " if m is None else ""
    with working(f"{stage}sampling {null} random mappings and {null} unrelated systems, {draws} robustness draws"):
        result = compare(sa, sb, m, null=null, seed=seed, draws=draws)
    if m is None and not search:
        result = _note_default_search(result)
    if plot is not None:
        write_plot(result, plot)
    if json_out:
        emit_json(result.to_dict())
    else:
        _report(result)
        if plot is not None:
            console.print(f"wrote {plot}", markup=False)


def _note_default_search(result: Comparison) -> Comparison:
    from dataclasses import replace

    return replace(result, search_reason="found by search (no --mapping given)")


converge.__doc__ = (converge.__doc__ or "") + "\n" + TOLERANCE_HELP + "\n\n" + EXIT_CODES_HELP
