"""The simulator over real HTTP on 127.0.0.1: an OpenAI-compatible vendor, faults included."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from canary_eval.simulator import (
    RunningSimulator,
    SimulatorConfig,
    parse_script,
    serve,
    serve_forever,
)
from canary_eval.simulator.bank import load_bank
from canary_eval.simulator.phrasing import GENERIC, JSON_PREFACE, OVER_REFUSALS
from canary_eval.simulator.tokens import count_tokens

SCALE = 0.01  # latency ~3 ms: fast tests
GROWTH = "How much is the Growth plan?"


def ask(client: httpx.Client, text: str, **extra: Any) -> httpx.Response:
    body = {"model": "ledger-chat", "messages": [{"role": "user", "content": text}], **extra}
    return client.post("/chat/completions", json=body)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with serve(SimulatorConfig(latency_scale=SCALE)) as running:
        yield running


@pytest.fixture
def client(sim: RunningSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, timeout=5) as c:
        yield c


def test_a_chat_completion_has_the_fields_and_headers_of_a_real_vendor(
    client: httpx.Client,
) -> None:
    system = {"role": "system", "content": "You are the Ledgerly support assistant."}
    body = {"model": "ledger-chat", "messages": [system, {"role": "user", "content": GROWTH}]}
    response = client.post("/chat/completions", json=body)

    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "ledger-chat-2024-06"
    assert data["system_fingerprint"] == "fp_stable01"
    choice = data["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "$40" in choice["message"]["content"]
    usage = data["usage"]
    assert usage["completion_tokens"] == count_tokens(choice["message"]["content"])
    assert usage["prompt_tokens"] > count_tokens(GROWTH)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    for header in ("x-request-id", "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests"):
        assert response.headers[header]


def test_the_case_is_found_inside_a_templated_prompt(client: httpx.Client) -> None:
    entry = load_bank().entries["billing-013"]
    templated = f"Customer message:\n\n  {entry.input}\n\nAnswer briefly."
    content = ask(client, templated).json()["choices"][0]["message"]["content"]
    assert content in (entry.right, entry.wrong)


def test_an_unknown_question_gets_a_plausible_generic_answer(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    content = ask(client, "What's the weather like on Mars?").json()["choices"][0]["message"]
    assert content["content"] in GENERIC
    assert sim.stats.unknown_inputs == 1


def test_the_served_version_changes_at_runtime_without_a_restart(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    assert ask(client, GROWTH).json()["system_fingerprint"] == "fp_stable01"
    sim.set_version("drifted")
    assert ask(client, GROWTH).json()["system_fingerprint"] == "fp_drift02"
    reply = client.post(sim.url + "/admin/version", json={"version": "verbose"})
    assert reply.status_code == 200
    assert ask(client, GROWTH).json()["model"] == "ledger-chat-2024-11"
    assert sim.stats.by_version == {"stable": 1, "drifted": 1, "verbose": 1}


def test_an_unknown_version_is_refused_by_the_admin_endpoint(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    reply = client.post(sim.url + "/admin/version", json={"version": "gpt-9"})
    assert reply.status_code == 400
    assert "unknown model version" in reply.json()["error"]["message"]


def test_models_lists_the_alias_and_every_dated_model(client: httpx.Client) -> None:
    ids = {m["id"] for m in client.get("/models").json()["data"]}
    assert {"ledger-chat", "ledger-chat-2024-06", "ledger-chat-2024-09"} <= ids


def test_embeddings_are_deterministic_unit_vectors_closer_for_related_texts(
    client: httpx.Client,
) -> None:
    texts = ["refund my annual plan", "refund for an annual plan", "webhook signature header"]
    first = client.post("/embeddings", json={"input": texts}).json()
    again = client.post("/embeddings", json={"input": texts}).json()
    vectors = [d["embedding"] for d in first["data"]]
    assert vectors == [d["embedding"] for d in again["data"]]

    def dot(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert dot(vectors[0], vectors[0]) == pytest.approx(1.0, abs=1e-4)
    assert dot(vectors[0], vectors[1]) > dot(vectors[0], vectors[2])


def test_max_tokens_cuts_the_answer_with_finish_reason_length(client: httpx.Client) -> None:
    data = ask(client, GROWTH, max_tokens=5).json()
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 5


def test_the_rpm_limit_answers_429_with_retry_after_once_the_window_is_full() -> None:
    with (
        serve(SimulatorConfig(rpm=3, latency_scale=SCALE)) as sim,
        httpx.Client(base_url=sim.base_url) as client,
    ):
        remaining = [ask(client, GROWTH).headers["x-ratelimit-remaining-requests"] for _ in "abc"]
        limited = ask(client, GROWTH)

        assert remaining == ["2", "1", "0"]
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert int(limited.headers["retry-after-ms"]) > 0
        assert limited.headers["x-ratelimit-limit-requests"] == "3"
        assert limited.json()["error"]["code"] == "rate_limit_exceeded"
        assert sim.stats.rate_limited == 1
        assert sim.stats.completions == 3


def test_a_scripted_429_burst_clears_after_the_scripted_requests(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    sim.reconfigure(script=parse_script("429*2@0.1"))
    statuses = [ask(client, GROWTH) for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["retry-after"] == "0.1"
    assert statuses[0].headers["retry-after-ms"] == "100"


def test_scripted_faults_break_responses_the_way_vendors_do(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    sim.reconfigure(script=parse_script("503,malformed,empty,truncate,content_filter,refusal"))

    assert ask(client, GROWTH).status_code == 503
    malformed = ask(client, GROWTH)
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.text)
    assert ask(client, GROWTH).json()["choices"] == []
    assert ask(client, GROWTH).json()["choices"][0]["finish_reason"] == "length"
    assert ask(client, GROWTH).json()["choices"][0]["finish_reason"] == "content_filter"
    refused = ask(client, GROWTH).json()["choices"][0]["message"]
    assert refused["refusal"]
    assert refused["content"] is None
    stats = sim.stats
    assert (stats.server_errors, stats.malformed, stats.empty_choices) == (1, 1, 1)
    assert (stats.truncated, stats.content_filtered, stats.refusals) == (1, 1, 1)


def test_a_scripted_reset_drops_the_connection(client: httpx.Client, sim: RunningSimulator) -> None:
    sim.reconfigure(script=parse_script("reset"))
    with pytest.raises(httpx.TransportError):
        ask(client, GROWTH)
    assert ask(client, GROWTH).status_code == 200


def test_a_timeout_stalls_past_the_client_timeout_and_close_is_prompt() -> None:
    config = SimulatorConfig(timeout_rate=1.0, hang_s=30, latency_scale=SCALE)
    with serve(config) as sim, httpx.Client(base_url=sim.base_url, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            ask(client, GROWTH)
        assert sim.stats.timeouts == 1
    # leaving the block closed the simulator although a handler was still stalling


def test_an_api_key_is_required_when_configured() -> None:
    with serve(SimulatorConfig(api_key="sk-right", latency_scale=SCALE)) as sim:
        wrong = httpx.post(
            sim.base_url + "/chat/completions",
            json={"messages": [{"role": "user", "content": GROWTH}]},
            headers={"Authorization": "Bearer sk-wrong"},
        )
        right = httpx.post(
            sim.base_url + "/chat/completions",
            json={"messages": [{"role": "user", "content": GROWTH}]},
            headers={"Authorization": "Bearer sk-right"},
        )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert right.status_code == 200


def test_an_error_rate_of_one_answers_every_request_503(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    sim.reconfigure(error_rate=1.0)
    assert {ask(client, GROWTH).status_code for _ in range(5)} == {503}


def test_the_outage_version_fails_the_same_prompts_on_every_retry(
    client: httpx.Client, sim: RunningSimulator
) -> None:
    sim.set_version("outage")
    inputs = [e.input for e in list(load_bank().entries.values())[:40]]
    first = [ask(client, text).status_code for text in inputs]
    second = [ask(client, text).status_code for text in inputs]
    assert first == second
    assert 10 <= first.count(503) <= 30


def test_a_bad_request_gets_400_not_a_crash(client: httpx.Client) -> None:
    assert client.post("/chat/completions", content=b"{not json").status_code == 400
    assert client.post("/chat/completions", json={"messages": []}).status_code == 400
    assert ask(client, GROWTH, stream=True).status_code == 400
    assert client.get("/nowhere").status_code == 404


def test_two_simulators_with_the_same_seed_answer_alike() -> None:
    inputs = [e.input for e in list(load_bank().entries.values())[::4]]

    def outputs(seed: int) -> list[str]:
        config = SimulatorConfig(version="drifted", seed=seed, noise=0.05, latency_scale=SCALE)
        with serve(config) as sim, httpx.Client(base_url=sim.base_url) as client:
            return [ask(client, t).json()["choices"][0]["message"]["content"] for t in inputs]

    first = outputs(3)
    assert first == outputs(3)
    assert first != outputs(4)


def test_serve_forever_blocks_until_closed_and_reports_when_ready() -> None:
    ready: list[RunningSimulator] = []
    bound = threading.Event()

    def on_ready(sim: RunningSimulator) -> None:
        ready.append(sim)
        bound.set()

    thread = threading.Thread(
        target=serve_forever,
        args=(SimulatorConfig(latency_scale=SCALE), 0),
        kwargs={"on_ready": on_ready},
    )
    thread.start()
    assert bound.wait(5)
    assert httpx.get(ready[0].base_url + "/models").status_code == 200
    ready[0].close()
    thread.join(5)
    assert not thread.is_alive()


LOOKUP = load_bank().entries["actions-001"]
TOOLS = [{"type": "function", "function": {"name": "lookup_invoice", "parameters": {}}}]


def test_a_tool_case_gets_a_tool_call_then_answers_from_the_tool_result(
    client: httpx.Client,
) -> None:
    first = ask(client, LOOKUP.input, tools=TOOLS).json()["choices"][0]

    assert first["finish_reason"] == "tool_calls"
    assert first["message"]["content"] is None
    (call,) = first["message"]["tool_calls"]
    assert call["function"]["name"] == "lookup_invoice"
    assert json.loads(call["function"]["arguments"]) == {"invoice_id": "INV-1042"}
    messages = [{"role": "user", "content": LOOKUP.input}, first["message"],
                {"role": "tool", "tool_call_id": call["id"], "content": "{}"}]  # fmt: skip
    final = client.post("/chat/completions", json={"model": "ledger-chat", "messages": messages})
    assert "$1,200.00" in final.json()["choices"][0]["message"]["content"]


def test_without_tools_or_with_tool_choice_none_a_tool_case_is_answered_in_text(
    client: httpx.Client,
) -> None:
    for extra in ({}, {"tools": TOOLS, "tool_choice": "none"}):
        message = ask(client, LOOKUP.input, **extra).json()["choices"][0]["message"]
        assert "tool_calls" not in message
        assert "$1,200.00" in message["content"]


def test_the_turn_under_test_is_the_last_user_message_after_few_shot_turns(
    client: httpx.Client,
) -> None:
    few_shot = [{"role": "user", "content": LOOKUP.input}, {"role": "assistant", "content": "Ok."}]
    body = {"model": "ledger-chat", "messages": [*few_shot, {"role": "user", "content": GROWTH}]}
    assert "$40" in client.post("/chat/completions", json=body).json()["choices"][0]["message"][
        "content"]  # fmt: skip


def test_prose_json_and_over_refusal_rates_change_what_the_model_says() -> None:
    """The knobs the safe-defaults test turns: JSON behind a chatty preface, answerable
    questions refused; other answers stay as they were."""
    config = SimulatorConfig(latency_scale=SCALE, prose_json_rate=1.0, over_refusal_rate=1.0)
    entries = load_bank().entries
    with (
        serve(config.replace(over_refusal_rate=0.0)) as running,
        httpx.Client(base_url=running.base_url, timeout=5) as c,
    ):
        json_answer = ask(c, entries["faq-030"].input).json()["choices"][0]["message"]["content"]
        prose_answer = ask(c, GROWTH).json()["choices"][0]["message"]["content"]
    assert json_answer.startswith(JSON_PREFACE)
    assert json.loads(json_answer.removeprefix(JSON_PREFACE)) == json.loads(
        entries["faq-030"].right
    )
    assert not prose_answer.startswith(JSON_PREFACE)

    with serve(config) as running, httpx.Client(base_url=running.base_url, timeout=5) as c:
        refused = ask(c, GROWTH).json()["choices"][0]["message"]["content"]
    assert refused in OVER_REFUSALS
