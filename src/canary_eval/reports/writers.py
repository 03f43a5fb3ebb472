"""Every report file a comparison can be written to, chosen by one option each.

The paths are checked before any model is called; the writers are imported when the reports
are written, after the calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from canary_eval.errors import CanaryError, OutputError
from canary_eval.reports.destination import is_stdout

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class Written:
    """What `write_reports` did: the files written, and one line per report that was not."""

    paths: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def write_reports(
    comparison: Comparison,
    paths: ReportPaths,
    config: SuiteConfig | None = None,
    history: Sequence[HistoryRow] = (),
) -> Written:
    """Write every requested report; `history` (oldest first, this run last) feeds the trends.

    Never raises for one report: the verdict is decided already and must still get out, so a
    full disk or a bug in one format is a failure line and the next report is still written.
    """
    from canary_eval.reports.html import write_html
    from canary_eval.reports.json import write_json
    from canary_eval.reports.junit import write_junit
    from canary_eval.reports.markdown import write_markdown
    from canary_eval.reports.prometheus import write_prometheus

    thresholds = config.thresholds if config else None
    writers: list[tuple[Path | None, Callable[[Path], None]]] = [
        (paths.json, lambda p: write_json(comparison, p)),
        (paths.junit, lambda p: write_junit(comparison, p, thresholds)),
        (paths.markdown, lambda p: write_markdown(comparison, p, history)),
        (paths.html, lambda p: write_html(comparison, p, history)),
        (paths.prometheus, lambda p: write_prometheus(comparison, p)),
    ]
    written = Written()
    for path, write in writers:
        if path is None:
            continue
        try:
            write(path)
        except CanaryError as exc:
            written.failures.append(str(exc))
        except OSError as exc:
            written.failures.append(str(OutputError(f"cannot write: {exc.strerror}", path=path)))
        except Exception as exc:  # a bug in one format must not hide the verdict
            written.failures.append(f"{path}: internal error: {type(exc).__name__}: {exc}")
        else:
            written.paths.append(path)
    return written
