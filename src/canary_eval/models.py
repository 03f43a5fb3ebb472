"""The values that flow through a canary run: cases in, completions, scores and results out.

All are frozen dataclasses: each stage returns new values and never mutates what it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ErrorKind = Literal[
    "timeout",
    "rate_limited",
    "server_error",
    "client_error",
    "connect_error",
    "malformed_response",
    "too_large",
    "content_filter",
    "truncated",
    "refusal",
    "deadline",
    "cancelled",
]


@dataclass(frozen=True)
class ScorerSpec:
    """One scorer as configured: its registered type, its parameters and its weight."""

    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    key: str = ""  # where it was configured, for error messages: "scorers[1]"


@dataclass(frozen=True)
class ToolResult:
    """What a tool answers in a case's tool loop: to calls of `name` and, when `arguments` is
    given, only to calls whose arguments include these values."""

    name: str
    content: str
    arguments: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Case:
    """One eval case. `fields` holds every field of the case, for prompt slots.

    `reference` is the first reference; `references` all of them (a case may accept several).
    `input` is the turn under test; `messages` the conversation before it (chat-format
    `{role, content}` dicts), and `tool_results` what tools answer if the model calls them.
    """

    id: str
    input: str
    reference: str | None = None
    references: tuple[str, ...] = ()
    intent: str | None = None
    scorers: tuple[ScorerSpec, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    line: int | None = None  # where the case starts in its file, when known
    messages: tuple[Mapping[str, Any], ...] = ()
    tool_results: tuple[ToolResult, ...] = ()
    max_turns: int | None = None  # the case's own bound on its tool loop
    critical: bool = False  # a confirmed failure where the baseline passed pages by itself


@dataclass(frozen=True)
class EvalSet:
    path: str
    cases: tuple[Case, ...]
    hash: str


@dataclass(frozen=True)
class Usage:
    """Tokens of one answer, normalised across vendors: `input_tokens` counts every prompt token
    (cached and cache-written ones too) and `output_tokens` every output token (reasoning too);
    the three details say how many of them were cache reads, cache writes and reasoning."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0  # read from the vendor's prompt cache (part of input_tokens)
    cache_write_tokens: int = 0  # written to the prompt cache (part of input_tokens)
    reasoning_tokens: int = 0  # thinking the vendor bills as output (part of output_tokens)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )


@dataclass(frozen=True)
class ToolCall:
    """One tool call in a model's answer: the tool's name and its arguments.

    `arguments` is the parsed JSON object, or None when what the model sent (`raw_arguments`)
    is not a JSON object: a scored failure of the case, never an error of the call.
    """

    name: str
    arguments: Mapping[str, Any] | None = field(default_factory=dict)
    raw_arguments: str = ""
    id: str | None = None


@dataclass(frozen=True)
class Completion:
    """What a provider returned for one successful call: text plus the tool calls it made.

    After a tool loop (`run/agent.py`) the text is the final answer, `tool_calls` the whole call
    sequence in order, `usage` the sum over turns and `turns` how many calls it took.
    """

    text: str
    model: str | None = None
    fingerprint: str | None = None
    usage: Usage = Usage()
    finish_reason: str | None = None
    refusal: str | None = None  # the provider's own refusal field, when it has one
    # Rate-limit headroom the server reported with this answer, for pacing the next requests.
    requests_remaining: int | None = None
    reset_s: float | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    turns: int = 1


@dataclass(frozen=True)
class CallError:
    """Why a case has no output."""

    kind: ErrorKind
    message: str
    status: int | None = None


@dataclass(frozen=True)
class CallOutcome:
    """A case after the engine is done with it: a completion or an error, plus what it took."""

    case_id: str
    completion: Completion | None
    error: CallError | None = None
    latency_ms: float = 0.0
    attempts: int = 1
    rate_limited: int = 0  # 429 answers seen on the way
    fallback: bool = False


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one output: a value in [0, 1], a pass flag and why."""

    value: float
    passed: bool
    explanation: str = ""
    scorer: str = ""
    invalid: bool = False  # the scorer could not decide (for example an unparsable judge verdict)


@dataclass(frozen=True)
class Behaviour:
    """Measures of how an output looks, taken on every case whether or not it is scored."""

    chars: int = 0
    words: int = 0
    refused: bool = False  # a full refusal (the provider's refusal field counts as one)
    hedges: int = 0  # hedge words in the output
    tokens: int = 0  # output tokens: the provider's count, else estimated as chars / 4
    partial_refusal: bool = False  # refusal language around a substantive answer
    format_ok: bool | None = None  # None unless the case asks for a format (JSON)
    tool_calls: int = 0  # tool calls the case made (every turn of a tool loop)
    wrong_tool: bool | None = None  # None unless the case expects a tool: called another one

    @property
    def hedged(self) -> bool:
        return self.hedges > 0

    @property
    def hedges_per_100_words(self) -> float:
        return 100.0 * self.hedges / self.words if self.words else 0.0


@dataclass(frozen=True)
class CaseResult:
    """One case of a run, scored. `score` is None when the case errored."""

    id: str
    intent: str | None
    content_hash: str
    output: str | None
    score: float | None
    scores: tuple[Score, ...] = ()
    error: CallError | None = None
    latency_ms: float = 0.0
    usage: Usage = Usage()
    model: str | None = None
    fingerprint: str | None = None
    attempts: int = 1
    rate_limited: int = 0
    fallback: bool = False
    behaviour: Behaviour = Behaviour()
    samples: tuple[float, ...] = ()  # per-repeat scores when the case ran more than once
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tool_calls: tuple[ToolCall, ...] = ()  # every tool call of the case, in order
    turns: int = 1  # model calls the case took (more than one in a tool loop)

    @property
    def transcript(self) -> str | None:
        """The output as reports show it: the text, then the tool calls it made."""
        if self.output is None:
            return None
        calls = [f"-> {c.name}({c.raw_arguments})" for c in self.tool_calls]
        return "\n".join([self.output, *calls] if self.output else calls)


@dataclass(frozen=True)
class RunInfo:
    """What a run was: the suite, the inputs' hashes and the provider it talked to."""

    suite: str
    evalset_hash: str
    prompt_hash: str
    provider: str
    model: str
    created_at: str  # ISO 8601, UTC
    scorers_hash: str = ""
    repeats: int = 1
    pricing: Mapping[str, float] = field(default_factory=dict)
    judges: tuple[Mapping[str, Any], ...] = ()  # judge models and prompt hashes scores rely on
    duration_s: float = 0.0  # wall time of the calls and scoring; 0 when not measured
    overrides: Mapping[str, str] = field(default_factory=dict)  # `--set KEY=VALUE` of this run


@dataclass(frozen=True)
class RunResult:
    info: RunInfo
    cases: tuple[CaseResult, ...]

    def by_id(self) -> dict[str, CaseResult]:
        return {c.id: c for c in self.cases}


Verdict = Literal["pass", "suspect", "regression", "error"]
Layer = Literal["quality", "intent", "behaviour", "ops", "model", "drift", "signals"]
# `page` decides exit 1 and pages on-call; `warn` is reported and sent to chat; `info` is shown.
Severity = Literal["page", "warn", "info"]

VERDICT_EXIT_CODES: Mapping[str, int] = {"pass": 0, "suspect": 0, "regression": 1, "error": 3}


@dataclass(frozen=True)
class Alert:
    """One finding worth a person's attention. Only `page` alerts decide the verdict (exit 1).

    `gate` names the configured gate that raised it (a `thresholds` key such as
    `max_p95_latency_increase`), the name the paging policy is keyed by.
    """

    layer: Layer
    metric: str
    message: str
    severity: Severity = "page"
    intent: str | None = None
    observed: float | None = None
    allowed: float | None = None
    gate: str = ""

    @property
    def failing(self) -> bool:
        """Whether this alert decides the verdict: it pages."""
        return self.severity == "page"
