"""Fixtures for the scorer tests: building scorers from specs, and a real HTTP model endpoint.

`endpoint` is a stdlib HTTP server on 127.0.0.1, in a thread, that speaks enough of the OpenAI API
(`/chat/completions`, `/embeddings`) for the judge and embedding scorers. Each test scripts its
answers with `endpoint.reply = lambda path, body: (status, json_or_text[, headers])`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from canary_eval.models import Case, Completion, Score, ScorerSpec
from canary_eval.scorers import BoundScorer, ScoreInput, ScorerContext, create
from canary_eval.scorers import endpoint as endpoint_module

Reply = Callable[[str, dict[str, Any]], tuple[Any, ...]]  # (status, body[, headers])


def case(
    reference: str | None = None,
    *,
    input: str = "What is the answer?",
    fields: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Case:
    return Case(id="c1", input=input, reference=reference, fields=dict(fields or {}), **kwargs)


def build(
    type_: str, params: Mapping[str, Any] | None = None, ctx: ScorerContext | None = None
) -> BoundScorer:
    return create(ScorerSpec(type_, dict(params or {}), key="scorers[0]"), ctx or ScorerContext())


def score(
    type_: str,
    output: str,
    reference: str | None = None,
    *,
    completion: Completion | None = None,
    ctx: ScorerContext | None = None,
    case_fields: Mapping[str, Any] | None = None,
    **params: Any,
) -> Score:
    """Build a scorer from a spec and score one output with it, as the engine would."""
    bound = build(type_, params, ctx)
    item = ScoreInput(output, case(reference, fields=case_fields), completion)
    return asyncio.run(bound(item))


@dataclass
class Endpoint:
    url: str
    reply: Reply
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def count(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p.endswith(path))


def chat(content: str) -> tuple[int, Any]:
    """A chat completion answer carrying `content`."""
    return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint(url="", reply=lambda path, body: (404, {"error": "not scripted"}))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append((self.path, body, dict(self.headers)))
            status, answer, *extra = state.reply(self.path, body)
            data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(status)
            for name, value in (extra[0] if extra else {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries are tested for what they do, not for how long they wait.
    monkeypatch.setattr(endpoint_module, "RETRY_BASE_S", 0.0)
