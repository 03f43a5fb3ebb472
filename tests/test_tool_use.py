"""A production prompt with few-shot messages, tools, a conversation case and a tool loop, run
as a user runs it against servers answering in OpenAI's and Anthropic's documented shapes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from validators import check_report

from conftest import CliResult
from model_server import ModelServer, serving
from tool_model import ToolModel

TOOLS = [
    {"type": "function", "function": {"name": name, "description": what, "parameters": {
        "type": "object", "required": ["invoice_id"], "properties": {
            "invoice_id": {"type": "string"}, "reason": {"type": "string"}}}}}
    for name, what in (("lookup_invoice", "Find an invoice"), ("open_dispute", "Dispute it"))
]  # fmt: skip
PROMPT = [
    {"role": "system", "content": "You are the Ledgerly assistant. Use the tools."},
    {"role": "user", "content": "How do I export invoices?"},
    {"role": "assistant", "content": "Go to Settings > Export."},
    {"role": "user", "content": "{{input}}"},
]
CASES: list[dict[str, Any]] = [
    {"id": "lookup", "intent": "billing", "input": "Is INV-1042 paid?",
     "tool_results": [{"name": "lookup_invoice", "arguments": {"invoice_id": "INV-1042"},
                       "content": {"invoice_id": "INV-1042", "status": "paid"}}],
     "scorers": [{"type": "tool_call", "name": "lookup_invoice",
                  "arguments": {"invoice_id": "INV-1042"}},
                 {"type": "contains", "value": "is paid"}]},
    {"id": "dispute", "intent": "disputes", "input": "Please open a dispute for INV-7.",
     "scorers": [{"type": "tool_call", "name": "open_dispute",
                  "arguments": {"invoice_id": "INV-7"}},
                 {"type": "json_schema", "tool": "open_dispute",
                  "schema": {"type": "object", "required": ["invoice_id", "reason"]}}]},
    {"id": "export", "intent": "faq", "messages": [
        {"role": "user", "content": "Hi, I'm on the Growth plan."},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "How do I get my invoices out as a spreadsheet?"}],
     "scorers": [{"type": "no_tool_call"}, {"type": "contains", "value": "Settings > Export"}]},
]  # fmt: skip
PRICING = {"input_per_mtok": 1.0, "output_per_mtok": 2.0, "cached_input_per_mtok": 0.1}
# Per call: 200 uncached at 1.0 + 800 cached at 0.1 + 50 output at 2.0 (reasoning included).
COST_PER_CALL = (200 * 1.0 + 800 * 0.1 + 50 * 2.0) / 1e6


@pytest.fixture
def tool_model() -> Iterator[tuple[ModelServer, ToolModel]]:
    model = ToolModel()
    with serving(ModelServer(respond=model)) as server:
        yield server, model


def write_suite(tmp_path: Path, base_url: str, vendor: str) -> Path:
    (tmp_path / "prompts").mkdir(exist_ok=True)
    (tmp_path / "prompts" / "support.json").write_text(json.dumps(PROMPT))
    (tmp_path / "cases.yaml").write_text(yaml.safe_dump({"cases": CASES}))
    suite = {
        "suite": "tools",
        "evalset": "cases.yaml",
        "provider": {"type": vendor, "base_url": base_url, "model": "m", "max_retries": 0,
                     "pricing": PRICING},
        "prompt": {"file": "prompts/support.json", "tools": TOOLS, "tool_choice": "auto"},
        "scorers": [],
        "thresholds": {"max_wrong_tool_rate_increase": 0.1, "max_tool_call_rate_change": 0.2},
    }  # fmt: skip
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_a_tool_using_suite_is_validated_baselined_and_run_with_every_answer_scored_and_priced(
    canary: Callable[..., CliResult],
    tmp_path: Path,
    tool_model: tuple[ModelServer, ToolModel],
    vendor: str,
) -> None:
    server, _ = tool_model
    suite = write_suite(tmp_path, server.base_url, vendor)

    checked = canary("validate", suite)
    assert canary("baseline", suite).exit_code == 0
    result = canary("run", suite, "--json", "report.json")

    assert checked.exit_code == 0
    assert (
        "prompt: 4 messages from prompts/support.json; tools: lookup_invoice, open_dispute; "
        "1 conversation case(s), 1 with tool results"
    ) in checked.stdout.replace(str(tmp_path) + "/", "")
    assert result.exit_code == 0, result.output
    assert "tool-call rate" in result.stdout
    assert "of which cached / reasoning" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    cases = {c["id"]: c for c in report["cases"]}
    assert [c["error"] for c in cases.values()] == [None, None, None]
    assert {c["id"]: c["score"] for c in report["cases"]} == {
        "lookup": 1.0, "dispute": 1.0, "export": 1.0}  # fmt: skip
    assert cases["lookup"]["output"] == "Invoice INV-1042 is paid."
    assert cases["lookup"]["turns"] == 2
    assert [t["name"] for t in cases["dispute"]["tool_calls"]] == ["open_dispute"]
    assert report["ops"]["cached_input_tokens"] == 4 * 800
    assert report["ops"]["cost_usd"] == pytest.approx(4 * COST_PER_CALL)
    assert report["behaviour"]["tool_call_rate"] == pytest.approx(2 / 3)
    assert report["prompt_changed"] is False
    check_report(report, "run-report")


def test_the_history_and_the_tool_results_are_sent_as_production_sends_them(
    canary: Callable[..., CliResult], tmp_path: Path, tool_model: tuple[ModelServer, ToolModel]
) -> None:
    server, _ = tool_model
    canary("baseline", write_suite(tmp_path, server.base_url, "openai"))

    bodies = [r["body"] for r in server.requests]
    export = next(b for b in bodies if "spreadsheet" in str(b["messages"][-1]["content"]))
    assert [m["role"] for m in export["messages"]] == [
        "system", "user", "assistant", "user", "assistant", "user"]  # fmt: skip
    assert (export["tools"], export["tool_choice"]) == (TOOLS, "auto")
    second = next(b for b in bodies if b["messages"][-1]["role"] == "tool")
    call = second["messages"][-2]["tool_calls"][0]
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": call["id"],
        "content": '{"invoice_id": "INV-1042", "status": "paid"}'}  # fmt: skip


def test_a_changed_prompt_file_is_reported_and_can_be_made_to_fail(
    canary: Callable[..., CliResult], tmp_path: Path, tool_model: tuple[ModelServer, ToolModel]
) -> None:
    server, _ = tool_model
    suite = write_suite(tmp_path, server.base_url, "openai")
    canary("baseline", suite)
    changed = [{**PROMPT[0], "content": "You are the Ledgerly assistant."}, *PROMPT[1:]]
    (tmp_path / "prompts" / "support.json").write_text(json.dumps(changed))

    result = canary("run", suite, "--json", "report.json")

    report = json.loads((tmp_path / "report.json").read_text())
    assert (result.exit_code, report["prompt_changed"]) == (0, True)
    assert [a["metric"] for a in report["alerts"]] == ["prompt"]
    assert "the prompt changed since the baseline" in result.output
    assert "changed since the baseline" in result.stdout.split("Alerts")[0]  # the quality table
    config = yaml.safe_load(suite.read_text())
    config["thresholds"]["fail_on_prompt_change"] = True
    suite.write_text(yaml.safe_dump(config))
    assert canary("run", suite).exit_code == 1


def test_a_drift_to_the_wrong_tool_fails_the_case_and_shows_in_the_wrong_tool_rate(
    canary: Callable[..., CliResult], tmp_path: Path, tool_model: tuple[ModelServer, ToolModel]
) -> None:
    server, model = tool_model
    suite = write_suite(tmp_path, server.base_url, "openai")
    canary("baseline", suite)
    model.dispute_tool = "lookup_invoice"

    canary("run", suite, "--json", "report.json")

    report = json.loads((tmp_path / "report.json").read_text())
    dispute = next(c for c in report["cases"] if c["id"] == "dispute")
    assert dispute["scores"][0]["explanation"].startswith("expected a call to open_dispute")
    assert report["behaviour"]["wrong_tool_rate"] == 0.5
