"""`discern policy test | lint | diff`: thin commands over ``router.policytest``,
``router.lint`` and ``router.policydiff``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from discern_cli.common import EXIT_CODES_HELP, EXIT_FOUND, console, emit_json, guarded, working

PolicyOption = Annotated[Path | None, typer.Option(
    "--policy", "-p", envvar="DISCERN_POLICY", dir_okay=False,
    help="Policy for test files that name none (default: the shipped default policy).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts.")]


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@guarded
def policy_test(
    path: Annotated[Path | None, typer.Argument(
        help="A test file, or a folder of *.tests.yaml files (default: the shipped default policy's tests).")] = None,
    policy: PolicyOption = None,
    show_coverage: Annotated[bool, typer.Option(
        "--coverage", help="Show, per tool, the clauses and rules the cases exercised and those they never did.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run a policy's test cases: each is a context and what must follow from it.

    A dot per passing case, an F per failing one, then each failure with the decision's explanation.

    Example: discern policy test docs/examples/gentle.tests.yaml --coverage
    """
    from router.policytest import (
        coverage,
        default_tests_path,
        find_test_files,
        load_suite,
        render_coverage,
        render_results,
        run_suite,
    )

    start = time.perf_counter()
    files = find_test_files(path if path is not None else default_tests_path())
    cache: dict[Path, object] = {}
    problems = []
    suites = []
    from router.errors import SpecError

    for file in files:
        try:
            suites.append(load_suite(file, policy=policy, cache=cache))  # type: ignore[arg-type]
        except SpecError as error:
            problems.extend(error.problems)
    if problems:
        raise SpecError(problems=problems)
    results = [run_suite(suite) for suite in suites]
    seconds = time.perf_counter() - start
    failed = any(r.failed for r in results)
    covered = []
    for result in results if show_coverage else []:
        checked = [case.checked for case in result.results]
        covered.append((result.suite.policy, coverage(result.suite.policy, checked)))
    if as_json:
        emit_json({
            "version": 1, "passed": sum(len(r.results) - len(r.failed) for r in results),
            "failed": sum(len(r.failed) for r in results), "seconds": round(seconds, 4),
            "files": [{"file": r.suite.file, "policy": {"name": r.suite.policy.name, "version": r.suite.policy.version,
                                                        "hash": r.suite.policy.hash},
                       "cases": [c.to_dict() for c in r.results]} for r in results],
            **({"coverage": [i.to_dict() for _, items in covered for i in items]} if show_coverage else {}),
        })
    else:
        _say(render_results(results, seconds))
        for compiled, items in covered:
            _say("")
            _say(render_coverage(compiled, items))  # type: ignore[arg-type]
    if failed:
        raise typer.Exit(EXIT_FOUND)


policy_test.__doc__ = (policy_test.__doc__ or "").rstrip() + "\n\n    " + EXIT_CODES_HELP + "\n"


@guarded
def policy_lint(
    file: Annotated[Path, typer.Argument(help="The policy file to lint.", dir_okay=False)],
    fail_on: Annotated[str, typer.Option(
        "--fail-on", help="Exit 1 when there are findings at or above this level: info, warning or error.")] = "warning",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the search where the domain is too large to walk.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Warn about what a policy cannot do that it looks like it does.

    Tools that can never win, conditions that never or always hold, limitations that cancel every capability,
    conflicting guardrails, features no condition reads, tools without evidence or steps.

    Example: discern policy lint policies/default.yaml --fail-on info
    """
    from router import load_policy
    from router.lint import lint_policy, severity_rank

    severity_rank(fail_on)
    with working("searching the schema's domain for tools that can never win"):
        report = lint_policy(load_policy(file), seed=seed)
    blocking = report.at_or_above(fail_on)
    if as_json:
        emit_json({**report.to_dict(), "fail_on": fail_on, "ok": not blocking})
    else:
        for finding in report.findings:
            _say(str(finding))
        counts = report.counts()
        _say(f"{report.policy.name} {report.policy.version}: {counts['error']} errors, {counts['warning']} warnings, "
             f"{counts['info']} info")
        _say(f"unreachable tools: {report.reachability.describe()}")
    if blocking:
        raise typer.Exit(EXIT_FOUND)


policy_lint.__doc__ = (policy_lint.__doc__ or "").rstrip() + "\n\n    " + EXIT_CODES_HELP + "\n"


@guarded
def policy_diff(
    old: Annotated[Path, typer.Argument(help="The policy before the change.", dir_okay=False)],
    new: Annotated[Path, typer.Argument(help="The policy after the change.", dir_okay=False)],
    contexts: Annotated[Path | None, typer.Option(
        "--contexts", help="YAML or JSON file: a list of contexts, or a test file (its cases' contexts).",
        dir_okay=False)] = None,
    sample: Annotated[int, typer.Option(
        "--sample", help="Else route this many contexts drawn from the schemas' domain.")] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
    as_json: JsonFlag = False,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 when any decision changes.")] = False,
    limit: Annotated[int, typer.Option("--show", help="How many changed decisions to print in full.")] = 20,
) -> None:
    """Show which decisions change between two versions of a policy, and why.

    Both decisions' reasons, the clauses and rules whose effect differs, and a table of moves between tools.

    Example: discern policy diff policies/default.yaml my-policy.yaml --sample 1000 --seed 7
    """
    from router import load_policy
    from router.policydiff import diff_policies, diff_sampled, read_contexts

    before, after = load_policy(old), load_policy(new)
    if contexts is not None:
        found = diff_policies(before, after, read_contexts(contexts, [before, after]),
                              source=f"contexts from {contexts}")
    else:
        with working(f"routing {sample} sampled contexts under both policies"):
            found = diff_sampled(before, after, sample, seed)
    if as_json:
        emit_json(found.to_dict())
    else:
        _say(found.render(limit=limit))
    if exit_code and found.changes:
        raise typer.Exit(EXIT_FOUND)


policy_diff.__doc__ = (policy_diff.__doc__ or "").rstrip() + "\n\n    " + EXIT_CODES_HELP + "\n"
