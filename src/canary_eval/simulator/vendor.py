"""The simulated vendor: turns one API request into one reply, faults, usage and latency included.

This is the simulator without HTTP: `server.py` only moves bytes. The state a real vendor keeps
between requests lives here: the rate-limit window, the scripted faults still to come, how many
times each case was asked (for noise), and the counters behind `stats`.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from canary_eval.simulator.bank import load_bank
from canary_eval.simulator.config import SimulatorConfig
from canary_eval.simulator.faults import Fault, RateDecision, RateLimiter, format_reset
from canary_eval.simulator.phrasing import generic_answer, phrase, with_preface
from canary_eval.simulator.protocol import (
    Reply,
    error_reply,
    json_reply,
    may_call_tools,
    message_text,
    request_problem,
    tool_call_item,
    user_text,
)
from canary_eval.simulator.tokens import count_tokens, embed, prompt_tokens, truncate_tokens
from canary_eval.simulator.versions import (
    MODEL_ALIAS,
    MODEL_VERSIONS,
    ModelVersion,
    decide,
    tool_call,
    unit,
    version_for_model,
)

EMBEDDING_MODEL = "ledger-embed-1"
PROVIDER_REFUSAL = "I'm sorry, but I can't help with that request."


@dataclass(frozen=True)
class SimulatorStats:
    """What the simulator has answered since it started (or since `reset_stats`)."""

    requests: int = 0  # every POST to /v1
    completions: int = 0  # chat completions answered 200 with a well-formed body
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    malformed: int = 0
    truncated: int = 0
    resets: int = 0
    unauthorized: int = 0
    empty_choices: int = 0
    content_filtered: int = 0
    refusals: int = 0
    embeddings: int = 0
    unknown_inputs: int = 0
    by_version: Mapping[str, int] = field(default_factory=dict)


class Vendor:
    """The model behind the API, with its current config (changeable while serving)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.bank = load_bank()
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._served: Counter[str] = Counter()
        self._asked: Counter[tuple[str, str]] = Counter()
        self.config = config
        self._limiter = RateLimiter(config.rpm, config.rpm_window_s)
        self._script: deque[Fault] = deque(config.script)
        self._rng = random.Random(config.seed)

    def reconfigure(self, **changes: Any) -> SimulatorConfig:
        """Change settings while serving; the rate window, script and generator restart only
        when their own setting changes."""
        with self._lock:
            old, new = self.config, self.config.replace(**changes)
            if (new.rpm, new.rpm_window_s) != (old.rpm, old.rpm_window_s):
                self._limiter = RateLimiter(new.rpm, new.rpm_window_s)
            if "script" in changes:
                self._script = deque(new.script)
            if new.seed != old.seed:
                self._rng = random.Random(new.seed)
            self.config = new
            return new

    def reset_stats(self) -> None:
        with self._lock:
            self._counts.clear()
            self._served.clear()
            self._asked.clear()

    @property
    def stats(self) -> SimulatorStats:
        with self._lock:
            known = SimulatorStats.__dataclass_fields__
            counts = {k: v for k, v in self._counts.items() if k in known}
            return SimulatorStats(**counts, by_version=dict(self._served))

    def models(self) -> dict[str, Any]:
        names = dict.fromkeys([MODEL_ALIAS, *(v.model for v in MODEL_VERSIONS.values())])
        data = [
            {"id": name, "object": "model", "created": 1717200000, "owned_by": "ledgerly-sim"}
            for name in [*names, EMBEDDING_MODEL]
        ]
        return {"object": "list", "data": data}

    def chat(self, body: Mapping[str, Any], authorization: str | None) -> Reply:
        """One `POST /v1/chat/completions`."""
        with self._lock:
            config = self.config
            self._counts["requests"] += 1
            fault = self._script.popleft() if self._script else None
            scripted_429 = fault is not None and fault.kind == "rate_limit"
            rate = self._limiter.peek() if scripted_429 else self._limiter.acquire()
            draws = [self._rng.random() for _ in range(4)]
            latency = self._latency(config)
        if fault is not None and scripted_429:
            return self._rate_limited(rate, fault.retry_after)
        if not rate.allowed:
            return self._rate_limited(rate, None)
        headers = self._headers(rate)
        version = MODEL_VERSIONS[version_for_model(body.get("model"), config.version)]
        if config.api_key is not None and authorization != f"Bearer {config.api_key}":
            fault = Fault("unauthorized")
        # A version's outage is sticky per prompt: gateways route by prompt prefix (for cache
        # affinity), so a retry lands on the same broken backend and fails again.
        if fault is None and unit("outage", config.seed, user_text(body)) < version.error_rate:
            fault = Fault("server_error", status=503)
        fault = fault or self._random_fault(config, draws)
        if fault.kind == "unauthorized":
            self._count("unauthorized")
            message = "Incorrect API key provided."
            return error_reply(401, message, headers, "invalid_request_error", "invalid_api_key")
        if fault.kind == "server_error":
            self._count("server_errors")
            message = "The server is overloaded or not ready yet."
            reply = error_reply(fault.status or 503, message, headers, "server_error")
            return replace(reply, delay_s=latency * 0.2)
        if fault.kind == "reset":
            self._count("resets")
            return Reply(0, action="reset", delay_s=latency * 0.2)
        problem = request_problem(body)
        if problem is not None:
            return error_reply(400, problem, headers, "invalid_request_error")
        data = self._completion(body, version, config, fault)
        headers["openai-processing-ms"] = str(round(latency * 1000))
        if fault.kind == "timeout":
            self._count("timeouts")
            return json_reply(200, data, headers, config.hang_s)
        if fault.kind == "malformed":
            self._count("malformed")
            whole = json.dumps(data).encode()
            return Reply(200, whole[: len(whole) // 2], headers, latency)
        if fault.kind == "empty_choices":
            self._count("empty_choices")
            data["choices"] = []
        else:
            self._count("completions")
        return json_reply(200, data, headers, latency)

    def embeddings(self, body: Mapping[str, Any]) -> Reply:
        """One `POST /v1/embeddings`: hashed bag-of-words vectors."""
        with self._lock:
            self._counts["requests"] += 1
            rate = self._limiter.acquire()
            latency = self._latency(self.config) * 0.2
        if not rate.allowed:
            return self._rate_limited(rate, None)
        raw = body.get("input")
        inputs = [raw] if isinstance(raw, str) else raw
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            message = "'input' must be a string or a list of strings."
            return error_reply(400, message, self._headers(rate), "invalid_request_error")
        self._count("embeddings")
        tokens = sum(count_tokens(i) for i in inputs)
        vectors = [
            {"object": "embedding", "index": i, "embedding": embed(text)}
            for i, text in enumerate(inputs)
        ]
        data = {
            "object": "list",
            "data": vectors,
            "model": body.get("model") or EMBEDDING_MODEL,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return json_reply(200, data, self._headers(rate), latency)

    def _completion(
        self, body: Mapping[str, Any], version: ModelVersion, config: SimulatorConfig, fault: Fault
    ) -> dict[str, Any]:
        messages = [m for m in body["messages"] if isinstance(m, Mapping)]
        # A tool case's first turn is its tool call when tools are offered; then its answer.
        entry = self.bank.match(user_text(body)) if may_call_tools(body) else None
        call = tool_call(entry.id, version.name, config.seed) if entry else None
        calls = [tool_call_item(call)] if call else []
        text = "" if calls else self._answer(user_text(body), version.name, config)
        finish, refusal = "tool_calls" if calls else "stop", None
        if fault.kind == "truncate":
            text, finish = truncate_tokens(text, max(1, count_tokens(text) // 2)), "length"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and count_tokens(text) > limit:
            text, finish = truncate_tokens(text, limit), "length"
        if fault.kind == "content_filter":
            text, finish = "", "content_filter"
            self._count("content_filtered")
        elif fault.kind == "refusal":
            text, refusal = "", PROVIDER_REFUSAL
            self._count("refusals")
        if finish == "length":
            self._count("truncated")
        prompt = prompt_tokens([message_text(m.get("content")) for m in messages])
        completion = count_tokens(text)
        with self._lock:
            self._served[version.name] += 1
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": version.model,
            "system_fingerprint": version.fingerprint,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": text or None,
                        "refusal": refusal,
                        **({"tool_calls": calls} if calls else {}),
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    def _answer(self, user: str, version: str, config: SimulatorConfig) -> str:
        entry = self.bank.match(user)
        if entry is None:
            self._count("unknown_inputs")
            return generic_answer(user)
        with self._lock:
            occurrence = self._asked[(version, entry.id)]
            self._asked[(version, entry.id)] += 1
        kind = decide(entry.id, version, config.seed, occurrence=occurrence, noise=config.noise)
        if unit(config.seed, entry.id, occurrence, "refuse") < config.over_refusal_rate:
            kind = "refuse"
        text = phrase(entry, kind, MODEL_VERSIONS[version], config.seed)
        if unit(config.seed, entry.id, occurrence, "prose") < config.prose_json_rate:
            text = with_preface(text)
        return text

    @staticmethod
    def _random_fault(config: SimulatorConfig, draws: list[float]) -> Fault:
        if draws[0] < config.error_rate:
            return Fault("server_error", status=503)
        if draws[1] < config.timeout_rate:
            return Fault("timeout")
        if draws[2] < config.malformed_rate:
            return Fault("malformed")
        if draws[3] < config.truncate_rate:
            return Fault("truncate")
        return Fault("ok")

    def _latency(self, config: SimulatorConfig) -> float:
        """Seconds to take. Call with the lock held: it draws from the shared generator."""
        if config.fixed_latency_ms is not None:
            ms = config.fixed_latency_ms
        else:
            ms = config.latency_ms * math.exp(config.latency_sigma * self._rng.gauss(0.0, 1.0))
        return ms * config.latency_scale / 1000

    def _rate_limited(self, rate: RateDecision, retry_after: float | None) -> Reply:
        self._count("rate_limited")
        wait = retry_after if retry_after is not None else max(0.001, rate.reset_s)
        headers = {
            **self._headers(rate),
            # HTTP wants whole seconds; a scripted fraction is sent as given, for fast tests.
            "retry-after": f"{wait:g}" if retry_after is not None else str(math.ceil(wait)),
            "retry-after-ms": str(max(1, round(wait * 1000))),
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": format_reset(wait),
        }
        message = (
            f"Rate limit reached for requests: limit {rate.limit} per minute. "
            f"Please try again in {wait:.3g}s."
        )
        return error_reply(429, message, headers, "requests", "rate_limit_exceeded")

    @staticmethod
    def _headers(rate: RateDecision) -> dict[str, str]:
        return {
            "x-request-id": f"req_{uuid.uuid4().hex}",
            "x-ratelimit-limit-requests": str(rate.limit),
            "x-ratelimit-remaining-requests": str(rate.remaining),
            "x-ratelimit-reset-requests": format_reset(rate.reset_s),
        }

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1
