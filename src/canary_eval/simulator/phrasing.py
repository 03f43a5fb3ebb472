"""How a model version words its answer: the drift a vendor update brings without changing
what is said, and the answers to questions outside the bundled set.

- Hedging: a softened closing sentence ("may", "might", "could").
- Summaries: facts softened ("is" -> "may be") and hedged sentences added until the summary is
  the version's `summary_growth` longer.
- Verbosity: context paragraphs added until the answer is `verbosity` times as long.
Structured (JSON) answers stay valid JSON: their text fields are hedged instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from canary_eval.simulator.bank import Entry
from canary_eval.simulator.versions import AnswerKind, ModelVersion, unit

HEDGES = (
    "That said, this may vary with your plan and settings, so it might be worth double-checking.",
    "Details could differ for some accounts, so you may want to confirm this in Settings.",
    "Please note this might change, and it could depend on your specific setup.",
    "It may also help to check help.ledgerly.com, as things could work slightly differently.",
)
SUMMARY_HEDGES = (
    "Some details may still change.",
    "The customer might need further help later.",
    "It could be worth confirming these details with the customer.",
    "The issue may come back, so a follow-up might possibly be useful.",
    "Some of this could depend on the account's plan and settings, which may vary.",
    "It is possible that the customer may have further questions, so the ticket could be "
    "revisited.",
)
_SOFTEN = (
    (re.compile(r"\bis now\b"), "may now be"),
    (re.compile(r"\bwas\b"), "appears to have been"),
    (re.compile(r"\bis\b"), "may be"),
    (re.compile(r"\bare\b"), "may be"),
    (re.compile(r"\bwill\b"), "might"),
    (re.compile(r"\bconfirmed\b"), "seemed to confirm"),
    (re.compile(r"\bexplained\b"), "suggested"),
)
DETAIL = (
    "To give you a bit more context: the same rules apply on the web app and in the mobile apps, "
    "and the related options live under Settings. If you run several businesses in Ledgerly, each "
    "one has its own settings, so repeat these steps in every account where they apply.",
    "A few related tips: keep your company details and tax settings up to date so invoices and "
    "receipts show the right information, and look at Settings > Billing > Billing history from "
    "time to time to confirm what you have been charged and why.",
    "If anything here does not match what you see in your account, reply with a screenshot and "
    "the invoice or payment ID and a member of the support team will take a closer look. Step-by-"
    "step guides with screenshots for every part of Ledgerly are at help.ledgerly.com.",
    "For teams: Owners and Admins can change these settings, Accountants can view them, and "
    "Members only see what applies to their own invoices. Changes are recorded in the audit log "
    "on Business and Enterprise, so you can always see who changed what and when.",
    "Finally, remember that the Ledgerly status page at status.ledgerly.com shows live incidents, "
    "and you can subscribe there to email updates. Our chat team is available around the clock "
    "on weekdays if you would like someone to walk through this with you.",
)
OVER_REFUSALS = (
    "I'm sorry, but I can't help with requests involving account access or personal data. "
    "Please contact support@ledgerly.com.",
    "I'm sorry, but I can't assist with that request. Please reach out to support@ledgerly.com.",
)
GENERIC = (
    "Thanks for reaching out! I can help with Ledgerly plans, billing, invoices, payments, "
    "disputes and integrations. Could you share a bit more detail about what you're trying to do?",
    "Happy to help. Could you tell me which part of Ledgerly this is about (invoices, payments, "
    "your subscription or an integration) and what you see on your screen?",
    "I don't have enough detail to answer that yet. If you share the invoice number or the "
    "setting you're looking at, I can walk you through it step by step.",
)


def phrase(entry: Entry, kind: AnswerKind, version: ModelVersion, seed: int) -> str:
    """The text `version` answers `entry` with, given what it decided."""
    if kind == "refuse":
        return OVER_REFUSALS[int(unit(seed, entry.id, "refusal") * len(OVER_REFUSALS))]
    text = entry.right if kind == "right" else entry.wrong
    key = (seed, version.name, entry.id)
    if version.summary_growth > 0 and entry.intent == "summarisation":
        text = _restyle_json(text, lambda s: _grow_summary(s, 0.0, key)) or _grow_summary(
            text, version.summary_growth, key
        )
    elif (
        version.hedge_rate > 0
        and not entry.must_refuse
        and len(text.split()) >= 6
        and unit(*key, "hedge") < version.hedge_rate
    ):
        text = _restyle_json(text, lambda s: s) or f"{text} {_pick(HEDGES, key)}"
    if version.verbosity > 1:
        text = _elaborate(text, version.verbosity, key)
    return text


JSON_PREFACE = "Sure! Here is the information you asked for, as JSON:"


def with_preface(text: str) -> str:
    """A JSON answer behind a chatty preface, so it no longer parses; other answers as they are."""
    try:
        json.loads(text)
    except ValueError:
        return text
    return f"{JSON_PREFACE}\n{text}"


def generic_answer(message: str) -> str:
    return GENERIC[int(unit("generic", message) * len(GENERIC))]


def _pick(options: tuple[str, ...], key: tuple[object, ...], salt: object = 0) -> str:
    return options[int(unit(*key, "pick", salt) * len(options))]


def _soften(text: str, times: int = 2) -> str:
    for pattern, replacement in _SOFTEN:
        text, done = pattern.subn(replacement, text, count=times)
        times -= done
        if times <= 0:
            break
    return text


def _grow_summary(text: str, growth: float, key: tuple[object, ...]) -> str:
    """Facts softened, then hedged sentences added until about `growth` longer (at least one)."""
    target = len(text) * (1 + growth)
    grown = _soften(text)
    pool = sorted(SUMMARY_HEDGES, key=lambda s: unit(*key, s))
    added = 0
    while pool and (len(grown) < target or added == 0):
        # The sentence that lands closest to the target length, so growth stays near its share.
        best = min(pool, key=lambda s: abs(len(grown) + 1 + len(s) - target))
        pool.remove(best)
        grown, added = f"{grown} {best}", added + 1
    return grown


def _restyle_json(text: str, restyle: Callable[[str], str]) -> str | None:
    """For a JSON object answer: its longest text field restyled (and hedged); else None."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict):
        strings = [k for k, v in data.items() if isinstance(v, str) and " " in v]
        if strings:
            longest = max(strings, key=lambda k: len(data[k]))
            data[longest] = f"{restyle(data[longest])} This may still change."
    return json.dumps(data)


def _elaborate(text: str, verbosity: float, key: tuple[object, ...]) -> str:
    try:
        return json.dumps(json.loads(text), indent=4)
    except ValueError:
        pass
    target = len(text) * verbosity
    parts = [text]
    start = int(unit(*key, "detail") * len(DETAIL))
    for i in range(len(DETAIL)):
        if sum(map(len, parts)) >= target:
            break
        parts.append(DETAIL[(start + i) % len(DETAIL)])
    return "\n\n".join(parts)
