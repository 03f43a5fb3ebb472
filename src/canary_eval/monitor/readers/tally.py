"""Counts of records read and rejected for one stream, the first rejections, and time units."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from canary_eval.errors import LogError

_KEEP_EXAMPLES = 20


@dataclass(frozen=True)
class Malformed:
    path: str
    line: int  # the line of a text file, the row (from 1) of a Parquet file
    reason: str


@dataclass
class Tally:
    """Mutable while a stream is read; the report copies what it needs."""

    stream: str
    total: int = 0
    malformed: int = 0
    examples: list[Malformed] = field(default_factory=list)
    time_units: Counter[str] = field(default_factory=Counter)  # iso | epoch_ms | ... -> records

    def reject(self, path: str, line: int, reason: str) -> None:
        self.malformed += 1
        if len(self.examples) < _KEEP_EXAMPLES:
            self.examples.append(Malformed(path, line, reason))

    @property
    def share(self) -> float:
        return self.malformed / self.total if self.total else 0.0

    def check(self, max_share: float) -> None:
        """LogError when more than `max_share` of the records were malformed."""
        if self.total and self.share > max_share:
            first = self.examples[0]
            raise LogError(
                f"{self.malformed} of {self.total} {self.stream} records malformed "
                f"({self.share:.1%}), above max_malformed_share {max_share:g}; "
                f"first: line {first.line}: {first.reason}",
                path=first.path,
                line=first.line,
            )
