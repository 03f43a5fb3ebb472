"""The one exception tree of canary; every error knows the exit code it ends a run with.

    CanaryError                      base; never raised itself
    ├── InputError              (2)  the user's input is wrong: fix the file and run again
    │   ├── ConfigError              suite or monitor config: YAML, schema, paths, scorers
    │   ├── EvalSetError             eval set: format, schema, duplicate ids, empty
    │   ├── BaselineError            baseline or saved run: missing, corrupt, incompatible
    │   ├── OutputError              a baseline or report file that cannot be written
    │   └── LogError                 production logs: missing files, too many malformed lines
    ├── AuthError               (2)  the provider refused the credentials (401/403)
    ├── EvaluationError         (3)  the run could not be evaluated: outage, deadline
    ├── InternalError           (4)  a bug in canary: anything raised that is not a CanaryError
    └── Interrupted           (130)  Ctrl-C; carries what finished, so it can be saved

Only `cli.py` turns these into a message and an exit code. The core raises them and never prints.
A message is one line: `file:line: key.path: what is wrong`, the parts that are known.
"""

from __future__ import annotations

from pathlib import Path


class CanaryError(Exception):
    """Base of every error canary raises on purpose."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.key = key

    def __str__(self) -> str:
        where = self.path or ""
        if self.path and self.line is not None:
            where += f":{self.line}"
        parts = [p for p in (where, self.key) if p]
        return ": ".join([*parts, self.message])


class InputError(CanaryError):
    """The user's input is wrong; nothing was (or will be) sent to a model."""

    exit_code = 2


class ConfigError(InputError):
    """A suite or monitor config cannot be used."""


class EvalSetError(InputError):
    """An eval set cannot be used."""


class BaselineError(InputError):
    """A baseline or saved run is missing, corrupt or belongs to something else."""


class OutputError(InputError):
    """A file canary was asked to write cannot be written (a missing right, a full disk)."""


class LogError(InputError):
    """Production logs cannot be read."""


class AuthError(CanaryError):
    """The provider refused the credentials; retrying will not help."""

    exit_code = 2


class EvaluationError(CanaryError):
    """The run could not be evaluated: the provider failed beyond the budget, or time ran out."""

    exit_code = 3


class InternalError(CanaryError):
    """A bug in canary, not in the input: never exit 1, which only a gate may decide."""

    exit_code = 4


class Interrupted(CanaryError):
    """The person pressed Ctrl-C. `partial` holds the run's finished cases, when there are any."""

    exit_code = 130

    def __init__(self, message: str, partial: object = None) -> None:
        super().__init__(message)
        self.partial = partial
