"""Every report file a comparison can be written to, chosen by one option each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from canary_eval.reports.destination import is_stdout
from canary_eval.reports.html import write_html
from canary_eval.reports.json import write_json
from canary_eval.reports.junit import write_junit
from canary_eval.reports.markdown import write_markdown
from canary_eval.reports.prometheus import write_prometheus
from canary_eval.store.history import HistoryRow
from canary_eval.suite.config import SuiteConfig
from canary_eval.verdict.compare import Comparison


@dataclass(frozen=True)
class ReportPaths:
    json: Path | None = None
    junit: Path | None = None
    markdown: Path | None = None
    html: Path | None = None
    prometheus: Path | None = None

    @classmethod
    def in_directory(cls, directory: Path, stem: str = "canary") -> ReportPaths:
        return cls(
            json=directory / f"{stem}.json",
            junit=directory / f"{stem}.xml",
            markdown=directory / f"{stem}.md",
            html=directory / f"{stem}.html",
            prometheus=directory / f"{stem}.prom",
        )

    def written(self) -> list[Path]:
        return [p for f in fields(self) if (p := getattr(self, f.name)) is not None]

    @property
    def to_stdout(self) -> bool:
        """True when a report goes to standard output (`-`, `/dev/stdout`)."""
        return any(is_stdout(p) for p in self.written())


def write_reports(
    comparison: Comparison,
    paths: ReportPaths,
    config: SuiteConfig | None = None,
    history: Sequence[HistoryRow] = (),
) -> list[Path]:
    """Write every requested report; `history` (oldest first, this run last) feeds the trends."""
    if paths.json:
        write_json(comparison, paths.json)
    if paths.junit:
        write_junit(comparison, paths.junit, config.thresholds if config else None)
    if paths.markdown:
        write_markdown(comparison, paths.markdown, history)
    if paths.html:
        write_html(comparison, paths.html, history)
    if paths.prometheus:
        write_prometheus(comparison, paths.prometheus)
    return paths.written()
