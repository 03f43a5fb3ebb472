"""The incident lifecycle across runs: what this run sends, given what the last one left open.

An hourly canary must not post the same incident every hour. A small state file next to the
history (`<history folder>/incident-<suite>.json`, written atomically) remembers the open
incident's key and when it was last sent. From it and this run's incident:

* new or changed incident: one message per channel (PagerDuty only when it pages);
* the same incident: nothing, or a "still failing" reminder once `alerts.repeat_after` passed;
* no incident: a recovery message if one was open, and the state is cleared.

PagerDuty gets a `resolve` on every run that does not page, open incident or not: resolve is
idempotent there, so a lost state file (an evicted CI cache) can never leave an incident open;
losing it only costs a repeated message, never a missed one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from canary_eval.verdict.incidents import Incident

Action = Literal["open", "change", "remind", "quiet", "resolve", "none"]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class IncidentState:
    """What the state file holds about the open incident."""

    key: str
    title: str
    severity: str
    opened_at: str  # ISO 8601, UTC
    notified_at: str  # the last message sent about it


@dataclass(frozen=True)
class Step:
    """What one run does about its incident."""

    action: Action
    page: bool  # send a PagerDuty trigger
    resolve_pagerduty: bool  # send a PagerDuty resolve
    message: bool  # post to Slack and the webhook
    state: IncidentState | None  # what the state file holds afterwards
    previous: IncidentState | None


def state_path(folder: Path, name: str) -> Path:
    """The state file of a suite (or `monitor-<name>`) in `folder`, the history's."""
    return Path(folder) / f"incident-{_UNSAFE.sub('_', name)}.json"


def load_state(path: Path) -> IncidentState | None:
    """The open incident; None when there is none, and when the file is missing or unreadable
    (a lost state fails safe: the next failure is sent again, the next pass resolves)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return IncidentState(**{k: str(data[k]) for k in IncidentState.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_state(path: Path, state: IncidentState | None) -> None:
    """Write (or, with None, remove) the state atomically; a failure here is not the run's."""
    try:
        if state is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(state), handle, indent=2)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return


def next_step(
    incident: Incident | None,
    previous: IncidentState | None,
    *,
    now: datetime,
    repeat_after: timedelta,
    was_failing: bool = False,
) -> Step:
    """Decide this run's messages. `was_failing` is the history's word that the last run
    notified, for a recovery message when the state file was lost."""
    if incident is None:
        recovered = previous is not None or was_failing
        return Step("resolve" if recovered else "none", False, True, recovered, None, previous)
    pages = incident.severity == "page"
    stamp = _iso(now)
    if previous is None or previous.key != incident.key:
        state = IncidentState(incident.key, incident.title, incident.severity, stamp, stamp)
        action: Action = "open" if previous is None else "change"
        return Step(action, pages, not pages, True, state, previous)
    if now - _parse(previous.notified_at) >= repeat_after:
        state = IncidentState(
            previous.key, incident.title, incident.severity, previous.opened_at, stamp
        )
        return Step("remind", pages, not pages, True, state, previous)
    return Step("quiet", False, not pages, False, previous, previous)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)  # unreadable: remind rather than stay silent
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
