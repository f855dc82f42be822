"""Rich renderings of decisions, tool cards and policy problems for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from router.spec import ToolSpec

# Past this many, ruled-out tools are named without their reasons, to keep the card short.
RULED_OUT_SHOWN = 5


def _signed(value: float) -> str:
    return f"{value:+g}" if value else "0"


def contribution_bars(contributions: list[Mapping[str, Any]], width: int = 24) -> Table:
    """A compact bar chart of what moved a tool's score."""
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(justify="right", style="bold")
    table.add_column()
    table.add_column(overflow="fold")
    scale = max((abs(float(c["weight"])) for c in contributions), default=1.0) or 1.0
    for c in contributions:
        weight = float(c["weight"])
        if c["kind"] == "limitation" and c.get("severity") == "exclude":
            continue
        length = max(1, round(abs(weight) / scale * width)) if weight else 0
        bar = Text("█" * length, style="green" if weight > 0 else "red") if weight else Text("·", style="dim")
        table.add_row(_signed(weight), bar, Text(f"{c['why']}  [{c.get('when') or c['id']}]"))
    return table


def render_decision(d: Mapping[str, Any]) -> RenderableType:
    """The decision for a person: the choice and why, the runner-up, what could change it."""
    parts: list[RenderableType] = []
    tool = d.get("tool")
    ranking = d.get("ranking", [])
    chosen = next((r for r in ranking if r["tool"] == tool), None)
    if tool is None:
        parts.append(Text("No tool can be recommended: every tool in play is ruled out.", style="bold red"))
    else:
        sure = "[green]confident[/]" if d.get("confident") else "[yellow]not confident[/]"
        settled = "[green]robust[/]" if d.get("robust") else "[yellow]could change[/]"
        name = chosen.get("name", tool) if chosen else tool
        parts.append(Text.from_markup(f"[bold]{escape(str(name))}[/] ([cyan]{tool}[/])  {sure}, {settled}"))
        parts.append(Text(f"Why: {d.get('reason', '')}"))
    for note in d.get("notes", []):
        parts.append(Text(f"Note: {note}", style="yellow"))
    if d.get("how_to"):
        parts.append(Text("What to do now", style="bold"))
        for number, step in enumerate(d["how_to"], start=1):
            parts.append(Text(f" {number}. {step}"))
    if chosen and chosen["contributions"]:
        parts.append(Text("Why this tool", style="bold"))
        parts.append(contribution_bars(chosen["contributions"]))
    if d.get("runner_up"):
        lines = d.get("why_not_runner_up", [])
        parts.append(Text.from_markup(f"[bold]Runner-up:[/] {d['runner_up']}" + (f" — {escape(lines[0])}" if lines else "")))
        for line in lines[1:]:
            parts.append(Text(f"  {line}"))
    if tool is not None and not d.get("confident") and d.get("fallback"):
        parts.append(Text.from_markup(f"[bold]Fallback:[/] {d['fallback']}"))
    if d.get("rules_fired"):
        parts.append(Text.from_markup("[bold]Guardrails fired:[/] " + ", ".join(d["rules_fired"])))
    excluded = [r for r in ranking if r["excluded"]]
    if excluded:
        table = Table(title="Ruled out", title_justify="left", show_header=False, box=None, padding=(0, 1))
        for r in excluded[:RULED_OUT_SHOWN]:
            by = r.get("excluded_by") or {}
            table.add_row(r["tool"], Text(str(by.get("why", ""))), Text(f"[{by.get('id', '')}]", style="dim"))
        parts.append(table)
        if len(excluded) > RULED_OUT_SHOWN:
            rest = ", ".join(r["tool"] for r in excluded[RULED_OUT_SHOWN:])
            parts.append(Text(f"  also ruled out: {rest} (--ranking or --json shows why)", style="dim"))
    if d.get("unknowns"):
        parts.append(Text.from_markup("[bold]Could change the choice:[/] " + ", ".join(d["unknowns"])))
    inferred = [i for i in d.get("inferred", []) if i.get("used", True)]
    if inferred:
        parts.append(Text("Read from your words: " + "; ".join(
            f"{i['feature']} = {i['value']} (\"{i['evidence']}\")" for i in inferred)))
    policy = d.get("policy", {})
    footer = f"policy {policy.get('name')} {policy.get('version')}"
    if d.get("decision_id"):
        footer += f" · decision {d['decision_id']}"
    return Panel(Group(*parts), title="Discern", subtitle=footer, subtitle_align="right")


def render_ranking(d: Mapping[str, Any], limit: int = 8) -> Table:
    table = Table(title="Ranking", title_justify="left")
    table.add_column("tool")
    table.add_column("score", justify="right")
    table.add_column("bounds", justify="right")
    table.add_column("status")
    for r in d.get("ranking", [])[:limit]:
        status = f"ruled out ({r['excluded_by']['id']})" if r["excluded"] else ""
        low, high = r["bounds"]
        table.add_row(r["tool"], f"{r['score']:g}", f"{low:g} .. {high:g}", status)
    return table


def watch_and_evidence(spec: ToolSpec, *, full_citations: bool) -> list[RenderableType]:
    """A tool's failure modes (what to watch for) and its evidence, as card sections."""
    parts: list[RenderableType] = []
    if spec.failure_modes:
        parts.append(Text("\nWhat to watch for", style="bold yellow"))
        for f in spec.failure_modes:
            parts.append(Text(f" • {f.name}: {f.signs} → {f.remedy}"))
    if spec.evidence:
        parts.append(Text("\nWhere the evidence comes from", style="bold"))
        for e in spec.evidence:
            finding = f": {e.finding}" if e.finding else ""
            parts.append(Text(f" • {e.citation if full_citations else e.key} ({e.kind}, {e.strength}){finding}"))
    return parts


def render_tool_card(spec: ToolSpec) -> RenderableType:
    """A readable card: what to do, where it reaches, where it fails, what to watch for,
    where the evidence comes from."""
    parts: list[RenderableType] = [Text(spec.summary)]
    if spec.how_to:
        parts.append(Text("\nWhat to do", style="bold"))
        for number, step in enumerate(spec.how_to, start=1):
            parts.append(Text(f" {number}. {step}"))
    if spec.capabilities:
        parts.append(Text("\nWhere it reaches", style="bold green"))
        for c in spec.capabilities:
            parts.append(Text(f" +{c.weight:g}  {c.why}  [{c.when}]"))
    if spec.limitations:
        parts.append(Text("\nWhere it fails", style="bold red"))
        for lim in spec.limitations:
            mark = "never" if lim.severity == "exclude" else f"-{lim.weight:g}"
            parts.append(Text(f" {mark:>5}  {lim.why}  [{lim.when}]"))
    parts += watch_and_evidence(spec, full_citations=True)
    if spec.cost:
        span = f" ({spec.cost.range[0]:g}-{spec.cost.range[1]:g})" if spec.cost.range else ""
        parts.append(Text(f"\nCost: about {spec.cost.minutes:g} minutes{span}, {spec.cost.effort} effort", style="dim"))
    return Panel(Group(*parts), title=f"{spec.name} ({spec.id})", subtitle=spec.family, subtitle_align="right")
