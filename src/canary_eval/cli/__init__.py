"""The `canary` command line: the only place that talks to the person and turns errors and
verdicts into exit codes (0 pass, 1 regression, 2 bad input, 3 could not evaluate, 4 internal
error, 130 Ctrl-C). Exit 1 comes only from a gate: anything unexpected that escapes a command is
a bug in canary, reported in one line and exit 4.

Commands live in the modules of this package, each registered with `@command`; the core is
imported inside them, so `canary --help` and `canary --version` start fast. The conventions of
the command line: `-h`/`--help` and `-V`/`--version`, shell completion
(`--install-completion`), and the global option `--debug` accepted before or after the command.
"""

from __future__ import annotations

import functools
import gc
import inspect
import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec

import click
import typer

from canary_eval.errors import CanaryError, InternalError, Interrupted

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    help="Canary evals for production LLM features: catch silent regressions before users do.",
)
_state = {"debug": False, "terminated": False}
P = ParamSpec("P")


DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


def _version(value: bool) -> None:
    if value:
        from canary_eval import __version__

        typer.echo(f"canary {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: DebugOpt = False,
    _: Annotated[
        bool,
        typer.Option(
            "--version", "-V", is_eager=True, callback=_version, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


def main() -> None:
    """Console-script entry point. SIGTERM (a cancelled CI job, systemd, `timeout`) is handled
    like Ctrl-C, so the finished cases are saved the same way; the exit code is then 143."""
    signal.signal(signal.SIGTERM, _terminate)
    # A command lives seconds and keeps nearly everything it allocates (the suite and its
    # cases, the results): collecting every 700 allocations walks them again and again, and
    # costs loading a 2,000-case eval set a third of its time. Cycles still get collected.
    gc.set_threshold(50_000, *gc.get_threshold()[1:])
    # numpy's OpenBLAS starts a thread per core that spins when numpy is imported: canary's
    # matrices are a few thousand numbers, and at latency 0 the spinning took a core from the
    # calls (a 2,000-case run spent 0.1 s more CPU). A user's own setting stands.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # httpx imports its own command line (rich and pygments, 30 ms) whenever they are
    # installed; canary never runs it, and a run should reach its first request without it.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    try:
        app()
    finally:
        # The process ends here and the system takes its memory back at once; without this
        # the collector's passes at exit walk everything the command kept (20 ms after
        # validating a 2,000-case set, a tenth of the command).
        gc.freeze()


def _terminate(signum: int, frame: object) -> None:
    _state["terminated"] = True
    signal.raise_signal(signal.SIGINT)  # the same path as Ctrl-C, in asyncio or out of it


def command(fn: Callable[P, None]) -> Callable[P, None]:
    """Register a command whose errors become one line on stderr and the error's exit code."""

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        if kwargs.pop("debug", False):
            _state["debug"] = True
        try:
            fn(*args, **kwargs)
        except Interrupted as error:
            _fail(error, *_interrupted(str(error)))
        except CanaryError as error:
            _fail(error, error.exit_code)
        except KeyboardInterrupt as error:
            _fail(error, *_interrupted("interrupted"))
        except (typer.Exit, typer.Abort, click.ClickException):
            raise  # an exit code already decided, or a usage error click reports itself
        except Exception as error:  # the promise: a bug never reads as exit 1
            _fail(error, InternalError.exit_code, internal_message(error))

    _accept_debug(guarded, fn)
    app.command()(guarded)
    return guarded


def _interrupted(message: str) -> tuple[int, str]:
    if _state["terminated"]:
        return 143, message.replace("interrupted", "terminated (SIGTERM)", 1)
    return 130, message


def internal_message(error: BaseException) -> str:
    """One line for a bug: what was raised, and how to get the traceback for a report."""
    text = " ".join(str(error).split())[:300]
    what = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return f"internal error: {what} (a bug in canary; rerun with --debug for the traceback)"


def _accept_debug(guarded: Callable[..., Any], fn: Callable[..., Any]) -> None:
    """Give the command its own `--debug`, so `canary run --debug S` works like `canary --debug
    run S` (typer reads the parameters from the signature)."""
    signature = inspect.signature(fn, eval_str=True)
    debug = inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False)
    guarded.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), debug.replace(annotation=DebugOpt)]
    )
    guarded.__annotations__ = {**fn.__annotations__, "debug": DebugOpt}


def _fail(error: BaseException, code: int, message: str | None = None) -> None:
    if _state["debug"]:
        import traceback

        traceback.print_exception(error)
    from canary_eval.redaction import redact

    typer.echo(redact(f"error: {message or error}"), err=True)
    raise typer.Exit(code)


# Registering the commands: each module decorates its functions with `@command`.
from canary_eval.cli import checks, schedule, tools  # noqa: E402

__all__ = ["app", "checks", "command", "main", "schedule", "tools"]
