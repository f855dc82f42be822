"""The audit commands: `explain ID`, `outcome ID RATING`, and `audit list|show|export|verify|head`.
Each opens the store named by `--audit PATH`, else DISCERN_AUDIT, else the default location."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .common import EXIT_CODES_HELP, EXIT_FOUND, console, emit_json, guarded

if TYPE_CHECKING:
    from router.audit import AuditStore

JSON_VERSION = 1

AuditOption = Annotated[
    Path | None,
    typer.Option("--audit", envvar="DISCERN_AUDIT", show_envvar=True,
                 help="The audit store (default: the user's data folder, discern/audit.db)."),
]
NoAuditFlag = Annotated[
    bool,
    typer.Option("--no-audit", envvar="DISCERN_NO_AUDIT", show_envvar=True,
                 help="Do not record this decision."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", envvar="DISCERN_POLICY", show_envvar=True,
                 help="The policy for --rerun (default: the shipped default policy)."),
]

HOW_SHOWN = {"dropped": "left out", "hashed": "kept only as a keyed hash",
             "evidence-as-pattern": "the words replaced by the id of the pattern that read them"}


# --- opening the store ------------------------------------------------------------------------

def store_path(audit: Path | None) -> Path:
    """The store's path: `--audit`, else DISCERN_AUDIT (typer reads it), else the default."""
    from router.audit import default_store_path

    return audit if audit is not None else default_store_path()


def open_existing(audit: Path | None) -> AuditStore:
    """The store for reading commands; a missing store is an error, not a new empty one."""
    from router.audit import open_store

    return open_store(store_path(audit), create=False)


def store_for_route(audit: Path | None, no_audit: bool = False) -> AuditStore | None:
    """The store that `route` and `consult` record into, or None when recording is off
    (`--no-audit` or DISCERN_NO_AUDIT=1)."""
    from router.audit import open_store

    if no_audit or os.environ.get("DISCERN_NO_AUDIT", "").strip().lower() in ("1", "true", "yes", "on"):
        return None
    return open_store(store_path(audit))


# --- explain ----------------------------------------------------------------------------------

def _redaction_lines(record: Mapping[str, Any]) -> list[str]:
    return [f"{r['feature']}: {HOW_SHOWN.get(r['how'], r['how'])}" for r in record.get("redacted", [])]


def _rerun_context(record: Mapping[str, Any], known: set[str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The recorded context without the features redaction changed and without features
    today's policy no longer has; and what was left out, and why."""
    redacted = {r["feature"]: r["how"] for r in record.get("redacted", []) if r["how"] in ("dropped", "hashed")}
    left_out = [{"feature": name, "why": "left out of the record" if how == "dropped" else "recorded only as a keyed hash"}
                for name, how in sorted(redacted.items())]
    context: dict[str, Any] = {}
    for name, value in record.get("given", {}).items():
        if name in redacted:
            continue
        if name not in known:
            left_out.append({"feature": name, "why": "not a feature of today's policy"})
            continue
        context[name] = value
    return context, left_out


def _differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What changed between the recorded result and today's."""
    diff: dict[str, Any] = {}
    for key in ("tool", "confident", "robust", "chosen_by", "runner_up"):
        if before.get(key) != after.get(key):
            diff[key] = {"recorded": before.get(key), "now": after.get(key)}
    old_unknowns, new_unknowns = list(before.get("unknowns", [])), list(after.get("unknowns", []))
    if old_unknowns != new_unknowns:
        diff["unknowns"] = {"recorded": old_unknowns, "now": new_unknowns,
                            "added": [u for u in new_unknowns if u not in old_unknowns],
                            "removed": [u for u in old_unknowns if u not in new_unknowns]}
    old_rank = {r["tool"]: r for r in before.get("ranking", [])}
    new_rank = {r["tool"]: r for r in after.get("ranking", [])}
    scores = []
    for tool in [*old_rank, *(t for t in new_rank if t not in old_rank)]:
        old, new = old_rank.get(tool), new_rank.get(tool)
        old_score = old["score"] if old else None
        new_score = new["score"] if new else None
        old_out = bool(old and old["excluded"])
        new_out = bool(new and new["excluded"])
        if old_score != new_score or old_out != new_out:
            scores.append({"tool": tool, "recorded": old_score, "now": new_score,
                           "recorded_excluded": old_out, "now_excluded": new_out})
    if scores:
        diff["scores"] = scores
    old_policy, new_policy = before.get("policy", {}), after.get("policy", {})
    if old_policy.get("hash") != new_policy.get("hash"):
        diff["policy"] = {"recorded": old_policy, "now": new_policy}
    return diff


def _render_differences(diff: Mapping[str, Any]) -> Group:
    parts: list[Any] = []
    if not diff:
        parts.append(Text("Nothing differs: today's policy makes the same decision.", style="green"))
        return Group(*parts)
    table = Table(title="What differs", title_justify="left")
    table.add_column("")
    table.add_column("recorded")
    table.add_column("now")
    for key in ("tool", "confident", "robust", "chosen_by", "runner_up"):
        if key in diff:
            table.add_row(key, str(diff[key]["recorded"]), str(diff[key]["now"]))
    if "unknowns" in diff:
        u = diff["unknowns"]
        table.add_row("unknowns", ", ".join(u["recorded"]) or "none", ", ".join(u["now"]) or "none")
    for s in diff.get("scores", []):
        def shown(score: Any, out: bool) -> str:
            text = "absent" if score is None else f"{score:g}"
            return text + (" (ruled out)" if out else "")
        table.add_row(f"score of {s['tool']}", shown(s["recorded"], s["recorded_excluded"]),
                      shown(s["now"], s["now_excluded"]))
    if "policy" in diff:
        p = diff["policy"]
        table.add_row("policy", *(f"{x.get('name')} {x.get('version')} ({str(x.get('hash', ''))[:19]})"
                                  for x in (p["recorded"], p["now"])))
    parts.append(table)
    return Group(*parts)


@guarded
def explain_command(
    decision_id: Annotated[str, typer.Argument(help="The decision's id (as `route` printed it).")],
    rerun: Annotated[bool, typer.Option("--rerun", help="Also route the recorded context under today's policy and show what differs.")] = False,
    policy: PolicyOption = None,
    audit: AuditOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Show a recorded decision exactly as it was explained when it was made.

    Example: discern explain 01J2Z3K4M5N6P7Q8R9S0T1V2W3 --rerun
    """
    from router.decision import explain_dict

    from .render import render_decision

    store = open_existing(audit)
    try:
        record = store.get(decision_id)
    finally:
        store.close()
    if record.get("kind") != "decision":
        from router.errors import AuditError

        raise AuditError(f"`{decision_id}` is an outcome, not a decision",
                         hint=f"its decision is `{record.get('decision_id')}`")
    result = record["result"]
    out: dict[str, Any] = {"version": JSON_VERSION, "decision_id": record["id"], "time": record["time"],
                           "recorded": result, "redacted": record.get("redacted", []),
                           "explanation": explain_dict(result), "outcomes": record.get("outcomes", [])}
    if rerun:
        from router import Router

        router = Router.load(policy)
        context, left_out = _rerun_context(record, set(router.policy.features.by_name))
        now = router.route(context).to_dict()
        out["rerun"] = {"context": context, "left_out": left_out, "result": now,
                        "differences": _differences(result, now)}
    if json_output:
        emit_json(out)
        return

    console.print(render_decision(result))
    when = record["time"]
    try:
        when = datetime.fromisoformat(when).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    except ValueError:
        pass
    console.print(Text(f"Recorded {when} under policy {record['policy']['name']} {record['policy']['version']} "
                       f"({record['policy']['hash'][:19]}), Discern {record.get('discern_version')}", style="dim"))
    lines = _redaction_lines(record)
    if lines:
        console.print(Text("Redacted in this record (shown as recorded):", style="bold yellow"))
        for line in lines:
            console.print(Text(f"  {line}"))
    for outcome in record.get("outcomes", []):
        used = f", used {outcome['used']}" if outcome.get("used") else ""
        note = f": {outcome['note']}" if outcome.get("note") else ""
        console.print(Text(f"Outcome: rated {outcome['rating']}/5{used}{note}"))
    if rerun:
        again = out["rerun"]
        console.print()
        console.print(Text("Routed again under today's policy", style="bold"))
        for item in again["left_out"]:
            console.print(Text(f"  without {item['feature']}: {item['why']}", style="yellow"))
        console.print(render_decision(again["result"]))
        console.print(_render_differences(again["differences"]))


explain_command.__doc__ = (explain_command.__doc__ or "") + "\n" + EXIT_CODES_HELP


# --- outcome ----------------------------------------------------------------------------------

@guarded
def outcome_command(
    decision_id: Annotated[str, typer.Argument(help="The decision's id.")],
    rating: Annotated[int, typer.Option("--rating", min=1, max=5, help="How well it worked: 1 (not at all) to 5 (very well).")],
    used: Annotated[str | None, typer.Option("--used", help="The tool you actually used, if not the one chosen.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A few words on how it went.")] = None,
    audit: AuditOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Record how a decision worked out, linked to it in the audit trail.

    Example: discern outcome 01J2Z3K4M5N6P7Q8R9S0T1V2W3 --rating 4 --used premortem --note "caught the flaw"
    """
    store = open_existing(audit)
    try:
        outcome_id = store.record_outcome(decision_id, rating, used=used, note=note)
        record = store.get(decision_id)
    finally:
        store.close()
    in_play = [r["tool"] for r in record["result"].get("ranking", [])]
    warning = None
    if used is not None and used not in in_play:
        warning = f"`{used}` was not among the tools in play for this decision"
    if json_output:
        emit_json({"version": JSON_VERSION, "outcome_id": outcome_id, "decision_id": decision_id,
                   "rating": rating, "used": used, "note": note, "warning": warning})
        return
    if warning:
        console.print(Text(f"note: {warning}", style="yellow"))
    console.print(Text(f"Recorded outcome {outcome_id} for decision {decision_id}: rated {rating}/5"
                       + (f", used {used}" if used else "")))


outcome_command.__doc__ = (outcome_command.__doc__ or "") + "\n" + EXIT_CODES_HELP


# --- audit list | show | export | verify | head -------------------------------------------------

audit_app = typer.Typer(
    name="audit", no_args_is_help=True, epilog=EXIT_CODES_HELP,
    help="Look into the audit trail: list, show, export, verify and head.",
)


def _summary(record: Mapping[str, Any]) -> dict[str, Any]:
    result = record.get("result", {})
    outcomes = record.get("outcomes", [])
    return {"decision_id": record["id"], "time": record["time"], "policy": record["policy"]["name"],
            "policy_version": record["policy"]["version"], "tool": result.get("tool"),
            "confident": result.get("confident"), "robust": result.get("robust"),
            "ratings": [o["rating"] for o in outcomes]}


@audit_app.command("list")
@guarded
def list_command(
    since: Annotated[str | None, typer.Option("--since", help="Only decisions at or after this ISO date or time (local time unless a zone is given).")] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="Only decisions that chose this tool.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Only decisions under the policy of this name.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the latest so many.")] = None,
    audit: AuditOption = None,
    json_output: JsonFlag = False,
) -> None:
    """List recorded decisions, oldest first.

    Example: discern audit list --since 2024-05-01 --tool premortem
    """
    store = open_existing(audit)
    try:
        rows = [_summary(r) for r in store.list(since=since, tool=tool, policy=policy, limit=limit)]
    finally:
        store.close()
    if json_output:
        emit_json({"version": JSON_VERSION, "decisions": rows})
        return
    if not rows:
        console.print("No decisions recorded" + (" that match." if since or tool or policy else "."))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("decision", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("tool", no_wrap=True)
    for column in ("sure", "policy", "rated"):
        table.add_column(column, overflow="fold")
    for row in rows:
        when = datetime.fromisoformat(row["time"]).astimezone().strftime("%Y-%m-%d %H:%M")
        sure = ("confident" if row["confident"] else "unsure") + (", robust" if row["robust"] else "")
        table.add_row(row["decision_id"], when, str(row["tool"]), sure, f"{row['policy']} {row['policy_version']}",
                      " ".join(f"{r}/5" for r in row["ratings"]))
    console.print(table)


@audit_app.command("show")
@guarded
def show_command(
    record_id: Annotated[str, typer.Argument(help="A decision's or an outcome's id.")],
    audit: AuditOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Show one record as stored: its fields, hashes and outcomes.

    Example: discern audit show 01J2Z3K4M5N6P7Q8R9S0T1V2W3 --json
    """
    store = open_existing(audit)
    try:
        record = store.get(record_id)
    finally:
        store.close()
    if json_output:
        emit_json({"version": JSON_VERSION, "record": record})
        return
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("id", record["id"])
    table.add_row("kind", record["kind"])
    table.add_row("time", record["time"])
    if record["kind"] == "decision":
        p = record["policy"]
        table.add_row("policy", f"{p['name']} {p['version']} {p['hash']}")
        table.add_row("tool", str(record["result"].get("tool")))
        table.add_row("context", escape(", ".join(f"{k}={v}" for k, v in record.get("given", {}).items())))
        for line in _redaction_lines(record):
            table.add_row("redacted", line)
        for tool_id, digest in p.get("tool_hashes", {}).items():
            table.add_row("tool spec", f"{tool_id} {digest}")
    else:
        table.add_row("decision", record["decision_id"])
        table.add_row("rating", f"{record['rating']}/5")
        table.add_row("used", str(record.get("used") or "-"))
        table.add_row("note", escape(str(record.get("note") or "-")))
    table.add_row("discern", str(record.get("discern_version")))
    table.add_row("previous", record["prev"])
    table.add_row("hash", str(record["hash"]))
    console.print(Panel(table, title=f"{record['kind']} {record['id']}"))
    for outcome in record.get("outcomes", []):
        console.print(Text(f"outcome {outcome['id']}: rated {outcome['rating']}/5"
                           + (f", used {outcome['used']}" if outcome.get("used") else "")
                           + (f": {outcome['note']}" if outcome.get("note") else "")))


@audit_app.command("export")
@guarded
def export_command(
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl (one JSON object a line) or csv.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write to this file instead of stdout.")] = None,
    audit: AuditOption = None,
) -> None:
    """Export every decision, one a line, with its outcomes in `outcomes` (csv: the same
    columns, lists and objects as JSON text).

    Example: discern audit export --format csv -o decisions.csv
    """
    from router.audit import write_csv, write_jsonl
    from router.errors import DiscernError

    if fmt not in ("jsonl", "csv"):
        raise DiscernError(f"unknown export format `{fmt}`", hint="use `jsonl` or `csv`")
    store = open_existing(audit)
    try:
        rows = list(store.export_rows())
    finally:
        store.close()
    write = write_jsonl if fmt == "jsonl" else write_csv
    if output is None:
        write(rows, sys.stdout)
        sys.stdout.flush()
        return
    with open(output, "w", encoding="utf-8", newline="") as f:
        n = write(rows, f)
    console.print(f"Wrote {n} decisions to {output}")


@audit_app.command("verify")
@guarded
def verify_command(audit: AuditOption = None, json_output: JsonFlag = False) -> None:
    """Recompute the hash chain; name the first record that was changed, deleted or moved.
    Exits 1 when the chain is broken.

    Example: discern audit verify --audit ~/audit.db
    """
    store = open_existing(audit)
    try:
        report = store.verify()
        head = store.head()
    finally:
        store.close()
    if json_output:
        emit_json({"version": JSON_VERSION, **report.to_dict(),
                   "head": {"id": head[0], "hash": head[1]} if head else None})
    elif report.ok:
        console.print(Text(f"ok: {report.message}", style="green"))
        if head:
            console.print(Text(f"head {head[0]} {head[1]}", style="dim"), soft_wrap=True)
    else:
        console.print(Text(f"broken: {report.message}", style="bold red"))
        console.print(Text(f"{report.checked} records before it are intact", style="dim"))
    if not report.ok:
        raise typer.Exit(EXIT_FOUND)


@audit_app.command("head")
@guarded
def head_command(audit: AuditOption = None, json_output: JsonFlag = False) -> None:
    """Print the latest record's id and hash. Keep them elsewhere: later they prove that
    nothing was cut from the end of the trail.

    Example: discern audit head >> ~/discern-heads.txt
    """
    store = open_existing(audit)
    try:
        head = store.head()
    finally:
        store.close()
    if json_output:
        emit_json({"version": JSON_VERSION, "id": head[0] if head else None, "hash": head[1] if head else None})
    elif head is None:
        console.print("No records yet.")
    else:
        sys.stdout.write(f"{head[0]} {head[1]}\n")
        sys.stdout.flush()


for _command in (list_command, show_command, export_command, verify_command, head_command):
    _command.__doc__ = (_command.__doc__ or "") + "\n" + EXIT_CODES_HELP

__all__ = ["AuditOption", "NoAuditFlag", "audit_app", "explain_command", "outcome_command", "store_for_route"]
