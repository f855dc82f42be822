"""What every command shares: consoles, JSON output, and one place that turns errors
into exit codes (0 done, 1 a problem found, 2 a user error, 3 an internal error)."""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from router.errors import DiscernError

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 the command ran and found a problem; "
    "2 bad input or usage (one located message); 3 an internal error (--debug shows the traceback)."
)

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def debug_enabled() -> bool:
    return os.environ.get("DISCERN_DEBUG", "") not in ("", "0")


def fail(error: DiscernError) -> NoReturn:
    """Print a user error on stderr (every problem, located) and exit 2."""
    for problem in error.problems:
        text = f"{problem.location}: {problem.message}" if problem.location else problem.message
        err_console.print(f"[bold red]error[/]: {text}", markup=True, soft_wrap=True)
        if problem.hint:
            err_console.print(f"  hint: {problem.hint}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


def usage_error(message: str, hint: str | None = None) -> NoReturn:
    fail(DiscernError(message, hint=hint))


def guarded(command: F) -> F:
    """Run a command so that a DiscernError exits 2 with its message and anything
    unexpected exits 3 with one line (the traceback only with --debug)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DiscernError as error:
            fail(error)
        except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(EXIT_OK) from None
        except Exception as error:  # noqa: BLE001 - the last line of defence is the point
            if debug_enabled():
                traceback.print_exc()
            err_console.print(
                f"internal error: {type(error).__name__}: {error} "
                "(this is a bug in discern; run with --debug for the traceback)",
                markup=False, soft_wrap=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature typer reads


def emit_json(obj: Any) -> None:
    """Print one JSON object on stdout, nothing else."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def working(message: str) -> Any:
    """A spinner on standard error while long work runs (silent when not a terminal, so
    scripts and --json output stay clean)."""
    import contextlib

    if not err_console.is_terminal:
        return contextlib.nullcontext()
    return err_console.status(message, spinner="dots")


def read_standard_input(limit: int = 2 * 1024 * 1024) -> str:
    """Standard input as text; binary or oversized input is a user error, not a crash."""
    from router.errors import Location

    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode("utf-8", "surrogateescape")
    if len(data) > limit:
        raise DiscernError("standard input is too large", at=Location("<stdin>"),
                           hint=f"inputs are limited to {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DiscernError(f"standard input is not UTF-8 text (byte {error.start})", at=Location("<stdin>")) from None
