"""Why calls failed, for the terminal: per error kind the count, the HTTP statuses seen and the
first message (already redacted where it entered), so exit 3 says more than "client_error 20"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from canary_eval.models import CaseResult
from canary_eval.reports.control import shown

if TYPE_CHECKING:
    from rich.table import Table


@dataclass(frozen=True)
class FailedKind:
    kind: str
    count: int
    statuses: tuple[int, ...]
    first_message: str


def failed_calls(cases: tuple[CaseResult, ...] | list[CaseResult]) -> list[FailedKind]:
    """One entry per error kind, the most frequent first."""
    counts: Counter[str] = Counter()
    statuses: dict[str, set[int]] = {}
    first: dict[str, str] = {}
    for case in cases:
        if case.error is None:
            continue
        kind = case.error.kind
        counts[kind] += 1
        if case.error.status is not None:
            statuses.setdefault(kind, set()).add(case.error.status)
        first.setdefault(kind, case.error.message)
    return [
        FailedKind(kind, n, tuple(sorted(statuses.get(kind, ()))), first[kind])
        for kind, n in counts.most_common()
    ]


def failures_table(kinds: list[FailedKind]) -> Table:
    from rich.table import Table

    table = Table(title="Failed calls", title_justify="left")
    for column in ("error", "cases", "HTTP status", "first message"):
        table.add_column(column, overflow="fold")
    for k in kinds:
        status = ", ".join(map(str, k.statuses)) or "-"
        table.add_row(k.kind, str(k.count), status, shown(_clip(k.first_message)))
    return table


def failure_lines(kinds: list[FailedKind]) -> list[str]:
    """The same, one plain line per kind, for `--quiet`."""
    lines = []
    for k in kinds:
        status = f" (HTTP {', '.join(map(str, k.statuses))})" if k.statuses else ""
        lines.append(f"failed calls: {k.kind} {k.count}{status}: {_clip(k.first_message)}")
    return lines


def _clip(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
