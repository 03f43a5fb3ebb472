"""Alert payloads stay inside what Slack and PagerDuty accept, however long a suite name or an
alert message is: fields are cut with an ellipsis, and the dedup key keeps its identity."""

from __future__ import annotations

import json
from dataclasses import replace

from canary_eval.models import Alert
from canary_eval.notify.pagerduty import dedup_key, trigger_event
from canary_eval.notify.slack import slack_message
from canary_eval.notify.summary import clip
from canary_eval.verdict.compare import Comparison

LONG_SUITE = "support-bot-" + "x" * 300


def test_a_long_suite_names_dedup_key_is_255_characters_stable_and_distinct() -> None:
    key = dedup_key(LONG_SUITE)
    assert len(key) == 255
    assert key == dedup_key(LONG_SUITE)
    assert key.startswith("canary-support-bot-xxx")
    assert dedup_key(LONG_SUITE + "y") != key  # the hash covers the tail that was cut
    assert dedup_key("support-bot") == "canary-support-bot"  # short keys are unchanged


def test_pagerduty_fields_are_within_the_events_api_limits(regression: Comparison) -> None:
    long = replace(regression, suite=LONG_SUITE)
    event = trigger_event(long, "rk", source="h" * 2000)
    assert len(event["dedup_key"]) == 255
    assert len(event["payload"]["summary"]) <= 1024
    assert event["payload"]["source"].endswith("\u2026")
    assert len(event["payload"]["component"]) <= 255


def test_slack_blocks_are_within_block_kit_limits(regression: Comparison) -> None:
    noisy = Alert("quality", "score", "a & b < c " * 2000, observed=0.5, allowed=0.1)
    long = replace(regression, suite=LONG_SUITE, alerts=(*regression.alerts, noisy))
    message = slack_message(long)
    header, *sections = message["blocks"]
    assert len(header["text"]["text"]) == 150
    assert header["text"]["text"].endswith("\u2026")
    texts = [b["text"]["text"] for b in sections if b["type"] == "section"]
    texts += [e["text"] for b in sections if b["type"] == "context" for e in b["elements"]]
    assert all(len(t) <= 3000 for t in texts)
    assert len(message["text"]) <= 40_000
    json.dumps(message)


def test_clip_never_cuts_an_entity_in_half() -> None:
    assert clip("short", 10) == "short"
    assert clip("ab &amp; cd", 6) == "ab \u2026"
    assert clip("abcdefgh", 5) == "abcd\u2026"
