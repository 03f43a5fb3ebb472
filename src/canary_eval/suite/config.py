"""Suite config: YAML -> `--set` overrides -> JSON Schema -> `SuiteConfig`, with `${VAR}`
interpolation as POSIX shells and compose files do it, and paths resolved relative to the config.

Secrets never pass through here: a config names the environment variable that holds the key
(`api_key_env`), and only the provider reads it, at call time. A provider that names none uses
its vendor's conventional variable when it is set (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`), and
its conventional base-URL variable when the config gives no `base_url`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from canary_eval.errors import ConfigError
from canary_eval.models import ScorerSpec, Severity
from canary_eval.redaction import register_config
from canary_eval.suite.document import Document, KeyPath, format_key, load_document
from canary_eval.suite.overrides import apply_overrides, blame_override
from canary_eval.suite.preflight import check_numbers, check_urls
from canary_eval.suite.promptfile import prompt_fields
from canary_eval.suite.schemas import validate

# ${VAR}, ${VAR-default}, ${VAR:-default}, ${VAR?message}, ${VAR:?message}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}")
# The vendors' own variables, used when the config names none: (key variable, base-URL variable).
CONVENTIONAL_ENV = {
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL"),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
}


@dataclass(frozen=True)
class Pricing:
    """USD per million tokens. Cache reads and writes cost the input price unless priced."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    cached_input_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None

    def as_dict(self) -> dict[str, float]:
        """The prices a run records, without the unset ones."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach the model. `options` holds the provider-specific keys as configured."""

    type: str
    model: str = ""
    base_url: str = ""
    api_key_env: str | None = None
    concurrency: int = 8
    timeout_s: float = 30.0
    max_retries: int = 4
    temperature: float = 0.0
    max_tokens: int = 512
    max_response_bytes: int = 1_000_000  # a larger body is the case's error `too_large`
    max_retry_after_s: float = 60.0  # the longest a server's Retry-After makes the run wait
    rpm: float | None = None
    tpm: float | None = None
    adaptive: bool = True
    pricing: Pricing = Pricing()
    options: Mapping[str, Any] = field(default_factory=dict)
    fallback: ProviderConfig | None = None
    key: str = "provider"  # where it was configured, for messages

    @property
    def label(self) -> str:
        return f"{self.type}:{self.model}" if self.model else self.type


@dataclass(frozen=True)
class PromptConfig:
    """The production prompt: `system` + `template` (short form) or a chat `messages` list
    (from the config or from `file`), plus the tools and formats sent alongside."""

    system: str | None = None
    template: str = "{{input}}"
    messages: tuple[Mapping[str, Any], ...] = ()
    file: str | None = None  # the prompt file the messages came from
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: Any = None
    response_format: Mapping[str, Any] | None = None
    max_turns: int = 5  # model calls a tool loop may take

    @property
    def turns(self) -> tuple[Mapping[str, Any], ...]:
        """The messages with their `{{slots}}`; the short form is a system and a user turn."""
        if self.messages:
            return self.messages
        user = {"role": "user", "content": self.template}
        return ({"role": "system", "content": self.system}, user) if self.system else (user,)

    @property
    def hash(self) -> str:
        """Over everything sent; the short form hashes as it always did, so baselines recorded
        before tools existed do not report a prompt change."""
        sent = [self.messages, self.tools, self.tool_choice, self.response_format, self.max_turns]
        if sent == [(), (), None, None, 5]:
            text = json.dumps([self.system, self.template])
        else:
            text = json.dumps([self.system, self.template, *sent], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IntentThresholds:
    max_relative_drop: float | None = 0.10
    min_cases: int = 10
    alpha: float | None = None  # defaults to the suite's alpha

    def gates(self, cases: int) -> bool:
        """Whether an intent of that many cases has a gate (and a calibrated series)."""
        return self.max_relative_drop is not None and cases >= self.min_cases


@dataclass(frozen=True)
class Thresholds:
    """Gates. Every gate is on with a documented default; `null` in the config turns one off."""

    max_relative_drop: float = 0.03
    alpha: float = 0.05
    fail_on_suspect: bool = False
    confirm_repeats: int = 0
    per_intent: IntentThresholds = IntentThresholds()
    max_error_rate: float = 0.10
    max_length_increase: float | None = 0.25
    max_refusal_rate_increase: float | None = 0.05
    max_hedging_rate_increase: float | None = 0.10
    max_format_failure_increase: float | None = 0.05
    max_tool_call_rate_change: float | None = None
    max_wrong_tool_rate_increase: float | None = None
    max_p95_latency_increase: float | None = 0.50
    min_p95_latency_increase_ms: float = 300.0  # and at least this much slower, in absolute terms
    max_cost_per_case_increase: float | None = 0.20
    min_cost_per_case_increase_usd: float = 0.00001  # $10 per million cases
    max_error_rate_increase: float | None = 0.05
    fail_on_model_change: bool = False
    fail_on_prompt_change: bool = False
    max_flip_rate: float | None = None


@dataclass(frozen=True)
class Alerting:
    """The paging policy's knobs (`alerting:` in the suite config; see verdict/policy.py)."""

    severity: Mapping[str, Severity] = field(default_factory=dict)  # per-gate overrides
    false_pages_per_month: float = 0.5  # of hourly runs; the CUSUM thresholds derive from it
    reference_runs: int = 168  # the most recent healthy runs the reference is built from
    min_reference_runs: int = 12  # fewer: the baseline's repeats or spread stand in


@dataclass(frozen=True)
class SuiteConfig:
    path: Path
    suite: str
    evalset_path: Path
    baseline_path: Path
    history_path: Path
    provider: ProviderConfig
    prompt: PromptConfig
    scorers: tuple[ScorerSpec, ...]
    thresholds: Thresholds
    judge: ProviderConfig | None = None
    quarantine: frozenset[str] = frozenset()
    alerts: Mapping[str, Any] = field(default_factory=dict)
    alerting: Alerting = Alerting()
    allow_custom_scorers: bool = False  # `module:function` scorers in this file may run
    overrides: Mapping[str, str] = field(default_factory=dict)  # `--set KEY=VALUE`, as given
    document: Document | None = field(default=None, compare=False, repr=False)

    def line_of(self, key: KeyPath) -> int | None:
        return self.document.line_of(key) if self.document else None


def load_config(path: str | Path, overrides: Mapping[str, str] | None = None) -> SuiteConfig:
    """Load and validate a suite config; any problem is a ConfigError naming file, line and key.
    `overrides` (`--set KEY=VALUE`) replace keys before validation, and are validated the same
    way; an error in one names the `--set` it came from."""
    doc = load_document(Path(path), ConfigError)
    if not isinstance(doc.data, dict):
        raise ConfigError("must be a mapping with suite, evalset and provider", path=doc.path)
    overrides = dict(overrides or {})
    data = apply_overrides(_interpolate(doc.data, doc, ()), overrides, doc.path)
    with blame_override(overrides):
        return _build(doc, data, overrides)


def _build(doc: Document, data: dict[str, Any], overrides: dict[str, str]) -> SuiteConfig:
    check_numbers(doc, data)
    validate(doc, "suite", ConfigError, data)
    check_urls(doc, data)
    register_config(data)  # from here on no key it names can reach a file or the terminal
    base = doc.path.parent
    suite = str(data["suite"])
    default_state = Path(".canary")  # next to the config file
    return SuiteConfig(
        path=doc.path,
        suite=suite,
        evalset_path=base / data["evalset"],
        baseline_path=base / data.get("baseline", default_state / f"{suite}.baseline.json"),
        history_path=base / data.get("history", default_state / "history.sqlite"),
        provider=_provider(data["provider"], base, "provider"),
        prompt=PromptConfig(
            **prompt_fields(data.get("prompt", {}), doc, base, data["provider"]["type"])
        ),
        scorers=scorer_specs(data.get("scorers", []), "scorers"),
        thresholds=_thresholds(data.get("thresholds", {})),
        judge=_provider(data["judge"], base, "judge") if "judge" in data else None,
        quarantine=frozenset(data.get("quarantine", [])),
        alerts=data.get("alerts", {}),
        alerting=Alerting(**data.get("alerting", {})),
        allow_custom_scorers=bool(data.get("allow_custom_scorers", False)),
        overrides=overrides,
        document=doc,
    )


def scorer_specs(items: list[dict[str, Any]], key: str) -> tuple[ScorerSpec, ...]:
    """Config scorer entries (`{type, weight, ...params}`) -> ScorerSpecs keyed for messages."""
    specs = []
    for i, item in enumerate(items):
        params = {k: v for k, v in item.items() if k not in ("type", "weight")}
        specs.append(
            ScorerSpec(str(item["type"]), params, float(item.get("weight", 1.0)), f"{key}[{i}]")
        )
    return tuple(specs)


def _provider(data: dict[str, Any], base: Path, key: str) -> ProviderConfig:
    known = {f for f in ProviderConfig.__dataclass_fields__ if f not in ("options", "key")}
    fields = {k: v for k, v in data.items() if k in known and k not in ("pricing", "fallback")}
    key_env, url_env = CONVENTIONAL_ENV.get(str(data.get("type")), (None, None))
    if key_env and "api_key_env" not in data and os.environ.get(key_env):
        fields["api_key_env"] = key_env
    if url_env and "base_url" not in data and os.environ.get(url_env):
        fields["base_url"] = os.environ[url_env]
    options = {k: v for k, v in data.items() if k not in known}
    if "path" in options:
        options["path"] = str(base / options["path"])
    fallback = data.get("fallback")
    return ProviderConfig(
        **fields,
        pricing=Pricing(**data.get("pricing", {})),
        options=options,
        fallback=_provider(fallback, base, f"{key}.fallback") if fallback else None,
        key=key,
    )


def _thresholds(data: dict[str, Any]) -> Thresholds:
    per_intent = IntentThresholds(**data.get("per_intent", {}))
    rest = {k: v for k, v in data.items() if k != "per_intent"}
    return Thresholds(**rest, per_intent=per_intent)


def _interpolate(value: Any, doc: Document, key: KeyPath) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, doc, (*key, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, doc, (*key, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        name, colon, op, word = match.groups()
        found = os.environ.get(name)
        # With the colon an empty value counts as unset, as in POSIX shells and compose files.
        missing = found is None or (colon == ":" and found == "")
        if op is None:
            if found is not None:
                return found
            word = f"not set (use ${{{name}:-default}} for a default)"
        elif not missing:
            return found or ""
        elif op == "-":
            return str(word)
        elif not word:
            word = "not set" if found is None else "empty"
        raise ConfigError(
            f"environment variable {name}: {word}",
            path=doc.path,
            line=doc.line_of(key),
            key=format_key(key),
        )

    return _ENV_REF.sub(substitute, value)
