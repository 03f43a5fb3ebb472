"""Builders of runs and comparisons for the report, alert and history tests, and a recording
HTTP server on 127.0.0.1 that stands in for Slack, PagerDuty, webhooks, Pushgateway and a model
endpoint.

`comparison(kind)` returns a real `Comparison` made by `canary_eval.verdict.compare.compare` from
hand-built runs, so the reports are tested on the same values the CLI hands them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from canary_eval.models import Behaviour, CallError, CaseResult, RunInfo, RunResult, Score, Usage
from canary_eval.store.history import HistoryRow
from canary_eval.suite.config import Alerting, IntentThresholds, Thresholds
from canary_eval.verdict.compare import Comparison, compare

Kind = Literal["pass", "suspect", "regression", "error"]

SUITE = "support-bot"
SCRIPT_OUTPUT = "Click here <script>alert(1)</script> | pipes | and\na new line & more"

THRESHOLDS = Thresholds(
    max_relative_drop=0.03,
    alpha=0.05,
    per_intent=IntentThresholds(max_relative_drop=0.10, min_cases=10),
    max_length_increase=0.25,
    max_refusal_rate_increase=0.05,
    max_hedging_rate_increase=0.10,
    max_p95_latency_increase=0.50,
    min_p95_latency_increase_ms=50.0,
    max_cost_per_case_increase=0.20,
    max_error_rate_increase=0.05,
)
# The report specs count one failure per breached gate, so the shared comparisons page on every
# behaviour and ops gate too (by default those only warn).
PAGE_ON_EVERY_GATE = Alerting(
    severity={
        gate: "page"
        for gate in (
            "max_length_increase",
            "max_refusal_rate_increase",
            "max_hedging_rate_increase",
            "max_p95_latency_increase",
            "max_cost_per_case_increase",
            "max_error_rate_increase",
        )
    }
)


def case(
    case_id: str,
    intent: str | None,
    score: float | None,
    output: str | None = None,
    *,
    latency_ms: float = 100.0,
    chars: int | None = None,
    model: str = "sim-stable",
    fingerprint: str | None = "fp_a",
    error: CallError | None = None,
) -> CaseResult:
    text = output if output is not None or error else f"answer for {case_id}"
    length = chars if chars is not None else len(text or "")
    scores = () if score is None else (Score(score, score >= 0.5, "mismatch", "token_f1"),)
    return CaseResult(
        id=case_id,
        intent=intent,
        content_hash=f"h-{case_id}",
        output=text,
        score=score,
        scores=scores,
        error=error,
        latency_ms=latency_ms,
        usage=Usage(40, 20),
        model=None if error else model,
        fingerprint=None if error else fingerprint,
        behaviour=Behaviour(chars=length, words=max(1, length // 5), tokens=length // 4),
    )


def run(cases: Sequence[CaseResult], created_at: str = "2024-05-07T14:00:00+00:00") -> RunResult:
    info = RunInfo(
        suite=SUITE,
        evalset_hash="e1",
        prompt_hash="p1",
        provider="openai",
        model="sim",
        created_at=created_at,
        pricing={"input_per_mtok": 0.15, "output_per_mtok": 0.60},
    )
    return RunResult(info, tuple(cases))


def baseline_cases(n_per_intent: int = 20) -> list[CaseResult]:
    return [
        case(f"{intent}-{i:02d}", intent, 1.0, chars=100)
        for intent in ("billing", "shipping")
        for i in range(n_per_intent)
    ]


def current_cases(kind: Kind) -> list[CaseResult]:
    cases = baseline_cases()
    if kind == "pass":
        return cases
    if kind == "suspect":
        # Six worse cases of forty: past the 3 % limit, the deficit building but not yet a page.
        slipped = {f"{intent}-0{i}" for intent in ("billing", "shipping") for i in range(3)}
        return [replace(c, score=0.0) if c.id in slipped else c for c in cases]
    if kind == "error":
        failure = CallError("server_error", "HTTP 500", status=500)
        return [
            case(c.id, c.intent, None, error=failure) if i % 3 == 0 else c
            for i, c in enumerate(cases)
        ]
    # A drifted vendor model: billing collapses, answers double in length, p95 latency triples.
    drifted = []
    for c in cases:
        worse = c.intent == "billing" and int(c.id[-2:]) < 12
        output = SCRIPT_OUTPUT if c.id == "billing-00" else f"a much longer answer for {c.id}"
        drifted.append(
            case(
                c.id,
                c.intent,
                0.0 if worse else 1.0,
                output,
                chars=200,
                latency_ms=300.0,
                model="sim-drift",
                fingerprint="fp_b",
            )
        )
    return drifted


def comparison(
    kind: Kind = "regression",
    *,
    thresholds: Thresholds = THRESHOLDS,
    created_at: str = "2024-05-07T14:00:00+00:00",
    outputs: dict[str, str] | None = None,
    intent_names: dict[str, str] | None = None,
) -> Comparison:
    """A real comparison whose verdict is `kind`; `outputs` replaces current outputs by case id,
    `intent_names` renames intents on both sides."""
    outputs, names = outputs or {}, intent_names or {}

    def adjust(cases: list[CaseResult], current: bool) -> list[CaseResult]:
        return [
            replace(
                c,
                intent=names.get(c.intent or "", c.intent),
                output=outputs.get(c.id, c.output) if current else c.output,
            )
            for c in cases
        ]

    base = run(adjust(baseline_cases(), False), created_at="2024-05-01T09:00:00+00:00")
    current = run(adjust(current_cases(kind), True), created_at)
    result = compare(current, base, thresholds, alerting=PAGE_ON_EVERY_GATE)
    assert result.verdict == kind, (result.verdict, [a.message for a in result.alerts])
    return result


@dataclass(frozen=True)
class Received:
    """One request the recording server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 202
    body: Any = None  # dict/list -> JSON, str -> text
    headers: tuple[tuple[str, str], ...] = ()


class RecordingServer:
    """A real HTTP server on 127.0.0.1 that records every request and answers from a script:
    `script("/path", 429, 500, Reply(202, {...}))` queues answers for that path; once a path's
    queue is empty it answers 202 `{"status": "success"}`."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._script: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, path: str, *replies: int | Reply) -> None:
        with self._lock:
            queue = self._script.setdefault(path, [])
            queue += [r if isinstance(r, Reply) else Reply(r) for r in replies]

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def _next(self, path: str) -> Reply:
        with self._lock:
            queue = self._script.get(path) or []
            return queue.pop(0) if queue else Reply(202, {"status": "success"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests.append(
                        Received(self.command, path, dict(self.headers.items()), body)
                    )
                reply = server._next(path)
                if isinstance(reply.body, str):
                    data, kind = reply.body.encode(), "text/plain"
                else:
                    data, kind = json.dumps(reply.body or {}).encode(), "application/json"
                self.send_response(reply.status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def history_row(score: float | None, time: str = "2024-05-07T10:00:00+00:00") -> HistoryRow:
    """A recorded passing run with this score, for trend charts."""
    return HistoryRow(
        suite="support-bot",
        time=time,
        verdict="pass",
        exit_code=0,
        score=score,
        baseline_score=1.0,
        relative_drop=0.0,
        p_value=1.0,
        intents={},
        latency_p50_ms=100.0,
        latency_p95_ms=120.0,
        error_rate=0.0,
        cost_per_case_usd=0.0,
        rate_limited=0,
        mean_chars=100.0,
        refusal_rate=0.0,
        hedging_rate=0.0,
        served_model="sim",
    )
