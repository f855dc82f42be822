"""`discern consult`: an interview in the terminal, or answered from a file, that ends with
what to do now and why. The interview itself is `router.consult`; this module asks its
questions and draws its cards."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from discern_cli.common import (
    EXIT_CODES_HELP,
    console,
    emit_json,
    err_console,
    guarded,
    read_standard_input,
    usage_error,
    working,
)

EXIT_INTERRUPTED = 130
DEFAULT_BUDGET = 20  # router.consult.DEFAULT_BUDGET, repeated here so that --help needs no import

CONSULT_HELP = f"""Talk it through: Discern asks only the questions whose answers could change which
tool fits, then says what to do now and why.

It asks about safety first, then anything whose answer would rule the leading tool out,
offers what it read from your description for you to confirm, asks what you are most likely
to know (what you need, how strongly you feel it, what is at stake, how much time there is,
whether it can be undone) before the rest, and stops as soon as no answer still open could
change the choice, or after at most {DEFAULT_BUDGET} questions (--max-questions). Every
question can be answered "?" (don't know) or skipped (Enter). Ctrl-C stops at any point and
records nothing. If a question left open would rule the recommended tool out, the result says so.

Example: discern consult --description "I can't stop going over the argument"

Scripts: discern consult --answers answers.yaml --json  (features the file lacks are
answered "don't know"; every answer the file gives counts, asked or not; a `description`
key opens the consultation).

{EXIT_CODES_HELP} 130: interrupted (Ctrl-C), nothing recorded."""

PolicyOption = Annotated[Path | None, typer.Option(
    "--policy", "-p", envvar="DISCERN_POLICY", help="Policy file (default: the shipped default policy).",
    dir_okay=False)]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts (the decision as "
                                                       "`route --json` prints it, plus `questions_asked`).")]
AuditOption = Annotated[Path | None, typer.Option(
    "--audit", envvar="DISCERN_AUDIT", help="Audit store file (default: the user data location).")]
NoAuditFlag = Annotated[bool, typer.Option("--no-audit", help="Do not record this decision (or set DISCERN_NO_AUDIT=1).")]


def recording_wanted(no_audit: bool) -> bool:
    return not no_audit and os.environ.get("DISCERN_NO_AUDIT", "") in ("", "0")


def load_router(policy: Path | None, audit: Path | None, no_audit: bool) -> Any:
    """The router for a consultation: it records (once, at the end) unless told not to."""
    from router import Router

    store: Any = None
    if recording_wanted(no_audit):
        from router.audit import default_store_path

        store = audit if audit is not None else default_store_path()
    return Router.load(policy, audit=store)


def read_answers(path: Path, router: Any) -> dict[str, Any]:
    """The answers file (YAML or JSON mapping of features to values), every bad entry located."""
    from router.contexts import locate_context_errors, read_context_file, read_context_text

    doc = read_context_text(read_standard_input(), "<stdin>") if str(path) == "-" else read_context_file(path)
    locate_context_errors(doc, router.policy.features)
    return dict(doc.data)


# --- drawing ------------------------------------------------------------------------------

def render_question(question: Any) -> RenderableType:
    """A question, what it means, and the answers it takes."""
    parts: list[RenderableType] = []
    head = Text(f"{question.number}. ", style="bold cyan")
    head.append(question.text, style="bold")
    parts.append(head)
    if question.help and not question.is_confirmation:
        parts.append(Text(f"   {question.help}", style="dim"))
    if question.is_confirmation:
        evidence = question.inferred.evidence
        if evidence:
            parts.append(Text(f"   (from your words: \u201c{evidence}\u201d)", style="dim"))
        extra = "" if question.kind == "boolean" else f", or another answer ({question.domain})"
        parts.append(Text(f"   yes / no{extra}", style="cyan"))
    elif question.kind == "boolean":
        parts.append(Text("   yes / no", style="cyan"))
    elif question.choices:
        parts.append(Text("   " + "  ".join(f"{n}) {c}" for n, c in enumerate(question.choices, start=1)),
                          style="cyan"))
    else:
        parts.append(Text(f"   {question.domain}", style="cyan"))
    parts.append(Text("   ? = don't know, Enter = skip", style="dim"))
    return Group(*parts)


def _shown(answer: Any) -> str:
    from router.consult import CONFIRM, DONT_KNOW, REJECT, SKIP

    marks = {id(DONT_KNOW): "don't know", id(SKIP): "skipped", id(CONFIRM): "yes", id(REJECT): "no"}
    if id(answer) in marks:
        return marks[id(answer)]
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, float):
        return f"{answer:g}"
    return str(answer)


def render_safety(card: Any, decision_id: str | None = None) -> RenderableType:
    """The safety card: emergency number, crisis lines, and that Discern is not care."""
    parts: list[RenderableType] = [Text(card.title, style="bold")]
    for number, step in enumerate(card.steps, start=1):
        parts.append(Text(f" {number}. {step}"))
    subtitle = f"decision {decision_id}" if decision_id else None
    return Panel(Group(*parts), title="Safety first", border_style="bold red", subtitle=subtitle,
                 subtitle_align="right")


def render_result(d: Mapping[str, Any], spec: Any, runner_name: str | None = None) -> RenderableType:
    """The result card: what to do now, why this tool, why not the runner-up, what to watch
    for, where the evidence comes from, what moved the score, and the decision id."""
    from discern_cli.render import contribution_bars, watch_and_evidence

    tool = d.get("tool")
    ranking = d.get("ranking", [])
    chosen = next((r for r in ranking if r["tool"] == tool), None)
    parts: list[RenderableType] = []
    if tool is None or spec is None:
        parts.append(Text("No tool can be recommended: every tool in play is ruled out.", style="bold red"))
        return Panel(Group(*parts), title="Discern")
    sure = "[green]confident[/]" if d.get("confident") else "[yellow]not confident[/]"
    settled = "[green]settled[/]" if d.get("robust") else "[yellow]could still change[/]"
    parts.append(Text.from_markup(f"[bold]{escape(spec.name)}[/] ([cyan]{escape(str(tool))}[/])  {sure}, {settled}"))
    parts.append(Text(spec.summary, style="italic"))
    if spec.how_to:
        parts.append(Text("\nWhat to do now", style="bold"))
        for number, step in enumerate(spec.how_to, start=1):
            parts.append(Text(f" {number}. {step}"))
    parts.append(Text("\nWhy this tool", style="bold green"))
    parts.append(Text(f" {d.get('reason', '')}"))
    strongest = sorted((c for c in (chosen or {}).get("contributions", []) if float(c["weight"]) > 0),
                       key=lambda c: -float(c["weight"]))[:3]
    for c in strongest:
        parts.append(Text(f" • {c['why']}"))
    if d.get("runner_up"):
        lines = d.get("why_not_runner_up", [])
        name = f"{runner_name} ({d['runner_up']})" if runner_name else d["runner_up"]
        parts.append(Text(f"\nWhy not {name}", style="bold"))
        for line in lines[1:] or lines:
            parts.append(Text(f" • {line}"))
    parts += watch_and_evidence(spec, full_citations=False)
    if chosen and chosen.get("contributions"):
        parts.append(Text("\nWhat moved the score", style="bold"))
        parts.append(contribution_bars(chosen["contributions"]))
    inferred = [i for i in d.get("inferred", []) if i.get("used", True)]
    if inferred:
        parts.append(Text("Read from your words: " + "; ".join(
            f"{i['feature']} = {_shown(i['value'])} (\u201c{i['evidence']}\u201d)" for i in inferred), style="dim"))
    for open_ in d.get("would_rule_out", []):
        said = "not known" if open_.get("asked") else "not asked"
        parts.append(Text(f"{said.capitalize()}: {open_['feature']}, which would rule this tool out", style="yellow"))
    if d.get("unknowns"):
        parts.append(Text("Could still change it: " + ", ".join(d["unknowns"]), style="dim"))
    asked = d.get("questions_asked", [])
    footer = f"{len(asked)} question" + ("" if len(asked) == 1 else "s")
    if d.get("decision_id"):
        parts.append(Text.from_markup(
            f"\nDecision [bold]{d['decision_id']}[/]: [cyan]discern explain {d['decision_id']}[/] shows it again; "
            f"[cyan]discern outcome {d['decision_id']}[/] records how it went."))
    else:
        parts.append(Text("\nNot recorded (--no-audit).", style="dim"))
    return Panel(Group(*parts), title="What to do now", subtitle=footer, subtitle_align="right")


# --- asking -------------------------------------------------------------------------------

def ask(question: Any, out: Console) -> Any:
    """Ask one question in the terminal until the answer fits; return the parsed answer."""
    from router import ContextError

    out.print(render_question(question))
    while True:
        out.print("   > ", end="")
        text = input()
        try:
            return question.parse(text)
        except ContextError as error:
            for problem in error.problems:
                out.print(f"   [red]{escape(problem.message)}[/]" + (f" [dim]({escape(problem.hint)})[/]" if problem.hint else ""))


def interview(consultation: Any, respond: Any, out: Console, *, show: bool) -> None:
    """Ask every question the consultation has: ``respond`` answers each; ``show`` prints
    scripted questions and answers as a transcript."""
    from router import ContextError

    while (question := consultation.next_question()) is not None:
        answer = respond(question)
        try:
            consultation.answer(question.feature, answer)
        except ContextError as error:  # a scripted answer that does not fit
            raise ContextError(f"answer for `{question.feature}`: {error.problems[0].message}",
                               hint=error.problems[0].hint) from None
        if show:
            out.print(Text(f"{question.number}. {question.text}  ", style="bold").append(
                _shown(answer), style="cyan"))
        if consultation.safety_raised:
            break


@guarded
def consult_command(
    description: Annotated[str | None, typer.Option(
        "--description", "-d", help="The situation in your own words (otherwise asked first in a terminal).")] = None,
    answers: Annotated[Path | None, typer.Option(
        "--answers", help="Answer from a YAML or JSON file of feature: value (and `description`), without a "
                          "terminal; `-` reads standard input. Missing features are answered \"don't know\"; every "
                          "answer in the file counts, asked or not.",
        dir_okay=False)] = None,
    max_questions: Annotated[int, typer.Option(
        "--max-questions", min=0, help=f"Ask at most this many questions (default {DEFAULT_BUDGET}).")] = DEFAULT_BUDGET,
    policy: PolicyOption = None,
    as_json: JsonFlag = False,
    audit: AuditOption = None,
    no_audit: NoAuditFlag = False,
) -> None:
    try:
        _consult(description, answers, max_questions, policy, as_json, audit, no_audit)
    except (KeyboardInterrupt, EOFError):
        err_console.print("\ninterrupted: nothing was recorded", style="yellow")
        raise typer.Exit(EXIT_INTERRUPTED) from None


consult_command.__doc__ = CONSULT_HELP


def _consult(description: str | None, answers: Path | None, max_questions: int, policy: Path | None,
             as_json: bool, audit: Path | None, no_audit: bool) -> None:
    from router.consult import Consultation, answers_from

    scripted = answers is not None
    if not scripted and not sys.stdin.isatty():
        usage_error("consult asks its questions in a terminal, and there is none here",
                    hint="give the answers with --answers FILE (YAML or JSON), or use `discern route`")
    router = load_router(policy, audit, no_audit)
    out = err_console if as_json else console
    given: dict[str, Any] = read_answers(answers, router) if answers is not None else {}
    if description is None and isinstance(given.get("description"), str):
        description = given["description"]
    if description is None and not scripted:
        out.print("[bold]Describe the situation in your own words[/] [dim](or press Enter to go straight "
                  "to the questions)[/]")
        out.print("   > ", end="")
        description = input().strip() or None
    with working("reading your words") if description else nullcontext():
        consultation = Consultation(router, description, budget=max_questions)
    respond = answers_from(given) if scripted else (lambda q: ask(q, out))
    interview(consultation, respond, out, show=scripted and not as_json)
    if scripted:
        consultation.volunteer(given)  # the file's other answers are the person's too
    decision = consultation.conclude()  # the one route that records
    result = consultation.to_dict()
    card = consultation.safety()
    if as_json:
        if card is not None:
            err_console.print(render_safety(card, decision.decision_id))
        emit_json(result)
        return
    if card is not None:
        console.print(render_safety(card, decision.decision_id))
    spec = router.policy.tools[decision.tool].spec if decision.tool in router.policy.tools else None
    runner = router.policy.tools.get(decision.runner_up) if decision.runner_up else None
    if card is None or decision.tool != "seek-professional-help":
        console.print(render_result(result, spec, runner.spec.name if runner is not None else None))
    else:
        reason = result.get("reason", "")
        console.print(Text(f"Why: {reason}", style="dim"))
        if decision.decision_id:
            console.print(Text.from_markup(
                f"Decision [bold]{decision.decision_id}[/]: [cyan]discern explain {decision.decision_id}[/], "
                f"[cyan]discern outcome {decision.decision_id}[/]"))


def main() -> None:
    """Run `consult` on its own: ``python -m discern_cli.consult``."""
    app = typer.Typer(add_completion=False, rich_markup_mode="rich",
                      context_settings={"help_option_names": ["-h", "--help"]})
    app.command("consult")(consult_command)
    app()


if __name__ == "__main__":
    main()
