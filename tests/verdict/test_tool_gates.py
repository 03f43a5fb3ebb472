"""The tool-use gates: the wrong-tool rate may not rise, the tool-call rate may not move either
way, each past its limit and significant."""

from __future__ import annotations

from dataclasses import replace

from canary_eval.models import Behaviour, CaseResult
from canary_eval.suite.config import Thresholds
from canary_eval.verdict.compare import compare

from factories import case, run

LIMITS = Thresholds(max_tool_call_rate_change=0.10, max_wrong_tool_rate_increase=0.05)


def tool_cases(calling: int, wrong: int, n: int = 40) -> list[CaseResult]:
    """n cases that expect a tool: the first `calling` call one, `wrong` of them the wrong one."""
    return [
        replace(
            case(f"c{i}", "billing", 1.0),
            behaviour=Behaviour(
                chars=20, words=4, tool_calls=int(i < calling), wrong_tool=i < wrong
            ),
        )
        for i in range(n)
    ]


def alerts(now: list[CaseResult], before: list[CaseResult]) -> dict[str, str]:
    return {a.metric: a.message for a in compare(run(now), run(before), LIMITS).alerts}


def test_calls_of_the_wrong_tool_raise_the_wrong_tool_alert() -> None:
    found = alerts(tool_cases(40, wrong=12), tool_cases(40, wrong=0))
    assert found["wrong_tool_rate"].startswith("wrong-tool calls (a tool the case does not")
    assert "rose from 0.0% to 30.0%" in found["wrong_tool_rate"]


def test_a_model_that_stops_calling_tools_raises_the_tool_call_rate_alert() -> None:
    found = alerts(tool_cases(24, wrong=0), tool_cases(40, wrong=0))
    assert found == {"tool_call_rate": found["tool_call_rate"]}
    assert found["tool_call_rate"].startswith("answers without a tool call rose from 0.0% to 40.0%")


def test_the_same_tool_use_raises_nothing() -> None:
    assert alerts(tool_cases(38, wrong=1), tool_cases(40, wrong=0)) == {}
