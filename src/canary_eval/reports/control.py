"""Data text made safe to show: terminal control and escape sequences removed, and rich markup
escaped. Model output, case ids, intents and model names come from servers and eval sets; on a
terminal or in a CI log an ANSI colour, an OSC window title or hyperlink, or a `CSI 2J` would be
obeyed, and `[/bold]` would be read as markup (or crash the report)."""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC/DCS/APC/PM/SOS strings (up to BEL or ST), any other ESC pair, then
# every remaining C0 control but tab and newline, DEL and the C1 controls.
_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b.?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def plain(text: str) -> str:
    """`text` without control or escape sequences."""
    return _SEQUENCES.sub("", text)


def shown(text: str) -> str:
    """`text` for a rich console: no control sequences, and its brackets taken literally."""
    from rich.markup import escape  # here: `--quiet` shows plain text without rich

    return escape(plain(text))
