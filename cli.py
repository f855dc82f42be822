"""The `discern` command line: a thin typer layer over the `router` library.

Exit codes: 0 done; 1 the command ran and found a problem; 2 bad input or usage (one
located message, no traceback); 3 an internal error (--debug shows the traceback).
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from discern_cli.audit import audit_app, explain_command, outcome_command, store_for_route
from discern_cli.beliefs import beliefs_app, converge
from discern_cli.common import EXIT_CODES_HELP, console, emit_json, guarded, read_standard_input, working
from discern_cli.consult import consult_command
from discern_cli.policy import policy_diff, policy_lint, policy_test

app = typer.Typer(
    name="discern",
    help="Route a situation to the reasoning tool that fits it, and say why.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
tools_app = typer.Typer(help="The tools in play: list them, show one as a card.\n\n" + EXIT_CODES_HELP,
                        no_args_is_help=True)
policy_app = typer.Typer(help="Check, test, lint and compare policy files.\n\n" + EXIT_CODES_HELP,
                         no_args_is_help=True)
app.add_typer(tools_app, name="tools")
app.add_typer(policy_app, name="policy")
app.add_typer(beliefs_app, name="beliefs")
app.command("converge")(converge)
app.command("explain")(explain_command)
app.command("outcome")(outcome_command)
app.add_typer(audit_app, name="audit")
app.command("consult")(consult_command)
policy_app.command("test")(policy_test)
policy_app.command("lint")(policy_lint)
policy_app.command("diff")(policy_diff)

PolicyOption = Annotated[Path | None, typer.Option(
    "--policy", "-p", envvar="DISCERN_POLICY", help="Policy file (default: the shipped default policy).",
    dir_okay=False)]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts.")]
AuditOption = Annotated[Path | None, typer.Option(
    "--audit", envvar="DISCERN_AUDIT", help="Audit store file (default: the user data location).")]
NoAuditFlag = Annotated[bool, typer.Option("--no-audit", help="Do not record this decision (or set DISCERN_NO_AUDIT=1).")]


def _version(value: bool) -> None:
    if value:
        from router import __version__

        console.print(f"discern {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    """Route a situation to the reasoning tool that fits it, and say why."""
    if debug:
        os.environ["DISCERN_DEBUG"] = "1"


def load_router(policy: Path | None, audit: Path | None, no_audit: bool = True) -> Any:
    """A Router for the chosen policy that records into the chosen store, unless
    recording is off (--no-audit or DISCERN_NO_AUDIT=1)."""
    from router import Router

    return Router.load(policy, audit=store_for_route(audit, no_audit))


def gather_context(router: Any, assignments: list[str], context_file: str | None) -> dict[str, Any]:
    """The context from --context FILE (or - for standard input) and --set pairs; --set wins."""
    from router.contexts import locate_context_errors, parse_assignments, read_context_file, read_context_text

    context: dict[str, Any] = {}
    if context_file is not None:
        if context_file == "-":
            doc = read_context_text(read_standard_input(), "<stdin>")
        else:
            doc = read_context_file(Path(context_file))
        locate_context_errors(doc, router.policy.features)
        context.update(doc.data)
    context.update(parse_assignments(assignments))
    return context


@app.command(epilog=EXIT_CODES_HELP)
@guarded
def route(
    assignments: Annotated[list[str], typer.Option("--set", "-s", help="feature=value (repeatable).")] = [],  # noqa: B006 - typer reads the default
    context_file: Annotated[str | None, typer.Option("--context", "-c", help="YAML or JSON context file, or - for standard input.")] = None,
    policy: PolicyOption = None,
    as_json: JsonFlag = False,
    audit: AuditOption = None,
    no_audit: NoAuditFlag = False,
    ranking: Annotated[bool, typer.Option("--ranking", help="Also show the ranking of every tool.")] = False,
) -> None:
    """Pick a tool for a context and explain the choice.

    Example: discern route --set goal=decide --set stakes=high --set reversibility=irreversible
    """
    router = load_router(policy, audit, no_audit)
    context = gather_context(router, assignments, context_file)
    # reading a description first loads (once after installing, fits) the learned models
    with working("reading your words") if isinstance(context.get("description"), str) else nullcontext():
        decision = router.route(context)
    if as_json:
        emit_json(decision.to_dict())
        return
    from discern_cli.render import render_decision, render_ranking

    result = decision.to_dict()
    console.print(render_decision(result))
    if ranking:
        console.print(render_ranking(result, limit=len(result["ranking"])))


@tools_app.command("list", epilog=EXIT_CODES_HELP)
@guarded
def tools_list(policy: PolicyOption = None, as_json: JsonFlag = False) -> None:
    """List the tools in play under a policy.

    Example: discern tools list --json
    """
    from router import load_policy

    compiled = load_policy(policy)
    rows = [{"id": t.id, "name": t.spec.name, "family": t.spec.family, "summary": t.spec.summary,
             "minutes": t.spec.cost.minutes if t.spec.cost else None} for t in compiled.tools.values()]
    if as_json:
        emit_json({"version": 1, "policy": compiled.name, "tools": rows})
        return
    from rich.table import Table

    table = Table(title=f"Tools in play ({compiled.name} {compiled.version})", title_justify="left")
    for column in ("id", "name", "family", "minutes", "summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["id"], row["name"], row["family"], "" if row["minutes"] is None else f"{row['minutes']:g}",
                      row["summary"])
    console.print(table)


@tools_app.command("show", epilog=EXIT_CODES_HELP)
@guarded
def tools_show(tool_id: Annotated[str, typer.Argument(help="A tool id, e.g. premortem.")],
               policy: PolicyOption = None, as_json: JsonFlag = False) -> None:
    """Show one tool as a card: what to do, where it reaches, where it fails, what to watch for, the evidence.

    Example: discern tools show premortem
    """
    from router import DiscernError, load_policy
    from router.errors import closest

    compiled = load_policy(policy)
    tool = compiled.tools.get(tool_id)
    if tool is None:
        raise DiscernError(f"unknown tool `{tool_id}`",
                           hint=closest(tool_id, compiled.tools) or "`discern tools list` shows the tools in play")
    if as_json:
        emit_json({"version": 1, **tool.spec.model_dump(mode="json"), "file": tool.file, "hash": tool.hash})
        return
    from discern_cli.render import render_tool_card

    console.print(render_tool_card(tool.spec))


@policy_app.command("check", epilog=EXIT_CODES_HELP)
@guarded
def policy_check(files: Annotated[list[Path], typer.Argument(help="Policy files to check.")],
                 as_json: JsonFlag = False) -> None:
    """Check policy files and the tool files they use; report every problem at once.

    Example: discern policy check policies/default.yaml
    """
    from router import SpecError, load_policy
    from router.errors import Problem

    found: list[Problem] = []
    summaries = []
    for file in files:
        try:
            compiled = load_policy(file)
            found.extend(compiled.warnings)
            summaries.append({"file": str(file), "name": compiled.name, "version": compiled.version,
                              "tools": len(compiled.tools), "rules": len(compiled.rules), "hash": compiled.hash})
        except SpecError as error:
            found.extend(error.problems)
    errors = [p for p in found if p.severity == "error"]
    if as_json:
        emit_json({"version": 1, "ok": not errors, "policies": summaries,
                   "problems": [{"severity": p.severity, "message": p.message, "hint": p.hint,
                                 "file": p.location.file if p.location else None,
                                 "line": p.location.line if p.location else None,
                                 "column": p.location.column if p.location else None} for p in found]})
    else:
        from discern_cli.common import err_console

        for p in found:
            style = "bold red" if p.severity == "error" else "bold yellow"
            where = f"{p.location}: " if p.location else ""
            err_console.print(f"{where}[{style}]{p.severity}[/]: {p.message}", soft_wrap=True)
            if p.hint:
                err_console.print(f"  hint: {p.hint}", markup=False, soft_wrap=True)
        for s in summaries:
            console.print(f"[green]ok[/] {s['file']}: policy {s['name']} {s['version']}, "
                          f"{s['tools']} tools, {s['rules']} rules")
    if errors:
        raise typer.Exit(2)


@policy_app.command("show", epilog=EXIT_CODES_HELP)
@guarded
def policy_show(file: Annotated[Path | None, typer.Argument(help="A policy file (default: --policy, else the shipped default).")] = None,
                policy: PolicyOption = None, as_json: JsonFlag = False) -> None:
    """Show a policy as resolved: its features (the context schema), tools, guardrails, thresholds.

    Example: discern policy show --json
    """
    from router import load_policy

    compiled = load_policy(file or policy)
    features = [{"name": f.name, "type": f.kind, "levels": list(f.levels) or None, "min": f.minimum, "max": f.maximum,
                 "unit": f.unit, "question": f.question, "help": f.help} for f in compiled.features]
    rules = [{"id": r.id, "when": r.spec.when, r.spec.action: list(r.spec.targets) if r.spec.action == "forbid"
              else r.spec.targets[0], "priority": r.spec.priority, "locked": r.spec.locked, "reason": r.spec.reason}
             for r in compiled.rules]
    summary = {"version": 1, "name": compiled.name, "policy_version": compiled.version, "hash": compiled.hash,
               "features": features, "tools": list(compiled.tools), "rules": rules,
               "thresholds": {"min_score": compiled.min_score, "min_margin": compiled.min_margin,
                              "text_weight": compiled.text_weight},
               "fallback": compiled.fallback, "files": list(compiled.files)}
    if as_json:
        emit_json(summary)
        return
    from rich.table import Table

    table = Table(title=f"Features of {compiled.name} {compiled.version}", title_justify="left")
    for column in ("feature", "type", "values", "question"):
        table.add_column(column, overflow="fold")
    for f in compiled.features:
        table.add_row(f.name, f.kind, f.describe_domain(), f.question or "")
    console.print(table)
    rule_table = Table(title="Guardrails", title_justify="left")
    for column in ("id", "when", "action", "priority", "reason"):
        rule_table.add_column(column, overflow="fold")
    for r in compiled.rules:
        lock = " (locked)" if r.spec.locked else ""
        rule_table.add_row(r.id, r.spec.when, f"{r.spec.action} {', '.join(r.spec.targets)}{lock}",
                           str(r.spec.priority), r.spec.reason)
    console.print(rule_table)
    console.print(f"{len(compiled.tools)} tools in play (`discern tools list`); minimum score "
                  f"{compiled.min_score:g}, minimum margin {compiled.min_margin:g}; fallback {compiled.fallback}")


@policy_app.command("schema", epilog=EXIT_CODES_HELP)
@guarded
def policy_schema(kind: Annotated[str | None, typer.Argument(
        help="tool, policy, tests, vignettes or context (default: all).")] = None,
        policy: PolicyOption = None) -> None:
    """Print the JSON Schema of each file kind, for editors that validate as you type.

    `context` is the schema of a context file under the chosen policy (--policy).

    Example: discern policy schema tool > tool.schema.json
    """
    from router import DiscernError, load_policy
    from router.policytest import PolicyTestFile
    from router.spec import PolicySpec, ToolSpec
    from router.vignettes import Vignette

    makers = {
        "tool": ToolSpec.model_json_schema,
        "policy": PolicySpec.model_json_schema,
        "tests": lambda: PolicyTestFile.model_json_schema(by_alias=True),
        "vignettes": lambda: {"type": "array", "items": Vignette.model_json_schema()},
        "context": lambda: context_schema(load_policy(policy)),
    }
    if kind is None:
        emit_json({name: make() for name, make in makers.items()})
    elif kind in makers:
        emit_json(makers[kind]())
    else:
        raise DiscernError(f"unknown file kind `{kind}`", hint="use one of " + ", ".join(f"`{k}`" for k in makers))


def context_schema(compiled: Any) -> dict[str, Any]:
    """The JSON Schema of a context under a policy: its features, each optional."""
    properties: dict[str, Any] = {}
    for f in compiled.features:
        if f.levels:
            prop: dict[str, Any] = {"enum": list(f.levels)}
        elif f.kind == "boolean":
            prop = {"type": "boolean"}
        elif f.kind in ("number", "integer"):
            prop = {"type": "integer" if f.kind == "integer" else "number"}
            if f.minimum is not None:
                prop["minimum"] = f.minimum
            if f.maximum is not None:
                prop["maximum"] = f.maximum
        else:
            prop = {"type": "string"}
        if f.question:
            prop["description"] = f.question
        properties[f.name] = prop
    return {"title": f"context for {compiled.name} {compiled.version}", "type": "object",
            "properties": properties, "additionalProperties": False}


@app.command(epilog=EXIT_CODES_HELP)
@guarded
def vignettes(suite: Annotated[Path, typer.Argument(help="A vignette suite (YAML list).")],
              policy: PolicyOption = None, as_json: JsonFlag = False,
              min_pass: Annotated[float, typer.Option(help="Exit 1 below this pass rate (0-1).")] = 0.9) -> None:
    """Route a vignette suite and print the pass rate, every violation and every miss.

    A pass chooses a tool the guidance accepts; a violation chooses one it rules out.
    Exit 1 on any violation or a pass rate below --min-pass.

    Example: discern vignettes tests/data/vignettes_public.yaml
    """
    from router import Router
    from router.vignettes import read_suite, run_suite

    vignettes, source = read_suite(suite)
    report = run_suite(Router.load(policy), vignettes, source)
    if as_json:
        emit_json(report.to_dict())
    else:
        for miss in report.misses:
            kind = "[bold red]VIOLATION[/]" if miss.violated else "[yellow]miss[/]"
            principle = f" ({miss.vignette.principle})" if miss.vignette.principle else ""
            console.print(f"{kind} {miss.vignette.id}: chose {miss.tool}, accepted "
                          f"{', '.join(miss.vignette.acceptable)}{principle}")
            console.print(miss.explanation, markup=False, highlight=False)
            console.print()
        console.print(f"{report.passed}/{len(report.results)} accepted ({report.pass_rate:.0%}), "
                      f"{len(report.violations)} violations")
    if report.violations or report.pass_rate < min_pass:
        raise typer.Exit(1)


def main() -> None:
    """The console entry point."""
    app()


if __name__ == "__main__":
    main()
