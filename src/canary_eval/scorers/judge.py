"""Model-graded scoring: the `judge` scorer and the judge client behind it.

A judge is a chat model behind an OpenAI-compatible `/chat/completions` endpoint, called at
temperature 0 with `response_format: json_object`; its prompts and the verdicts it must give are
in `verdicts.py`. A verdict that is not the JSON asked for, or a call that fails after retries, is
an invalid score that says why: it is counted, never scored 0. Valid verdicts are cached in memory
and, when the run has a cache directory, on disk (`<cache_dir>/judge/<key>.json`), the key being
the SHA-256 of the judge model, the prompt hash and the rendered prompt (case input, references,
output), so re-scoring a run costs nothing. `describe_judges` gives the run what it must record
(judge model, prompt, prompt hash) so that a judge change cannot pass for a model change.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from canary_eval.models import Score
from canary_eval.scorers.endpoint import ENDPOINT_PARAMS, Endpoint, EndpointError, endpoint_from
from canary_eval.scorers.registry import (
    BoundScorer,
    ParamError,
    ScoreFn,
    ScoreInput,
    ScorerContext,
    scorer,
)
from canary_eval.scorers.verdicts import (
    MODES,
    SYSTEM,
    TEMPLATES,
    InvalidVerdict,
    judge_fingerprint,
    parse_verdict,
    prompt_hash,
    reasoning_of,
    render,
)


class Judge:
    """One configured judge: endpoint, mode and criteria. Calling it scores one output."""

    def __init__(
        self,
        endpoint: Endpoint,
        mode: str,
        *,
        criteria: str | None = None,
        threshold: float = 0.5,
        cache_dir: Path | None = None,
        offline: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.mode = mode
        self.criteria = criteria
        self.threshold = threshold
        self.cache_dir = cache_dir / "judge" if cache_dir is not None else None
        self.offline = offline
        self.prompt_hash = prompt_hash(mode, criteria)
        self.fingerprint = judge_fingerprint(endpoint.model, mode, criteria)
        self.calls = 0  # requests sent, for tests and cost accounting
        self._memory: dict[str, dict[str, Any]] = {}

    def describe(self) -> dict[str, Any]:
        """What a run records about this judge."""
        return {
            "model": self.endpoint.model,
            "base_url": self.endpoint.base_url,
            "mode": self.mode,
            "prompt": {
                "system": SYSTEM,
                "template": TEMPLATES[self.mode],
                "criteria": self.criteria,
            },
            "prompt_hash": self.prompt_hash,
            "fingerprint": self.fingerprint,
        }

    def messages(self, item: ScoreInput) -> list[dict[str, str]]:
        refs = item.references
        reference = (
            refs[0] if len(refs) == 1 else "\n".join(f"({i + 1}) {r}" for i, r in enumerate(refs))
        )
        context = item.case.fields.get("context")
        if isinstance(context, list):
            context = "\n".join(str(c) for c in context)
        slots = {
            "input": item.case.input,
            "reference": reference,
            "output": item.output,
            "criteria": self.criteria or "",
            "context": f"[Context]: {context}" if context else "",
        }
        return [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": render(TEMPLATES[self.mode], slots)},
        ]

    async def __call__(self, item: ScoreInput) -> Score:
        if self.mode in ("closedqa", "factuality") and not item.references:
            return Score(0.0, False, "no reference", invalid=True)
        if self.mode == "grounded" and not (item.references or item.case.fields.get("context")):
            return Score(0.0, False, "no reference or context", invalid=True)
        messages = self.messages(item)
        key = hashlib.sha256(
            json.dumps([self.endpoint.model, self.prompt_hash, messages]).encode()
        ).hexdigest()
        head = f"judge {self.mode} ({self.endpoint.model}, prompt {self.prompt_hash[:12]})"
        cached = self._read_cache(key)
        if cached is None and self.offline:
            return Score(0.0, False, f"{head}: no cached verdict (offline)", invalid=True)
        try:
            content = cached["content"] if cached else await self._ask(messages)
            value, summary = parse_verdict(self.mode, content)
        except EndpointError as exc:
            return Score(0.0, False, f"{head}: call failed: {exc}", invalid=True)
        except InvalidVerdict as exc:
            return Score(0.0, False, f"{head}: invalid verdict: {exc}", invalid=True)
        if not cached:
            self._write_cache(key, content)
        reasoning = reasoning_of(content)
        why = f"{head}: {summary}" + (f" ({reasoning})" if reasoning else "")
        return Score(value, value >= self.threshold, why)

    async def _ask(self, messages: list[dict[str, str]]) -> str:
        self.calls += 1
        body = await self.endpoint.post(
            "chat/completions",
            {
                "model": self.endpoint.model,
                "messages": messages,
                "temperature": 0,
                "response_format": {"type": "json_object"},
            },
        )
        try:
            message = body["choices"][0]["message"]
        except (KeyError, IndexError, TypeError) as exc:
            raise InvalidVerdict("answer has no choices[0].message") from exc
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str) or not content.strip():
            refusal = message.get("refusal") if isinstance(message, dict) else None
            raise InvalidVerdict(f"judge refused: {refusal}" if refusal else "empty verdict")
        return content

    def _read_cache(self, key: str) -> dict[str, Any] | None:
        if key in self._memory:
            return self._memory[key]
        if self.cache_dir is None:
            return None
        try:
            entry = json.loads((self.cache_dir / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("content"), str):
            return None
        self._memory[key] = entry
        return entry

    def _write_cache(self, key: str, content: str) -> None:
        entry = {
            "model": self.endpoint.model,
            "prompt_hash": self.prompt_hash,
            "mode": self.mode,
            "content": content,
        }
        self._memory[key] = entry
        if self.cache_dir is None:
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f)
            os.replace(tmp, self.cache_dir / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written only costs a repeated call later


@scorer(
    "judge",
    params={
        **ENDPOINT_PARAMS,
        "mode": {"enum": list(MODES)},
        "criteria": {"type": "string", "minLength": 1},
        "threshold": {"type": "number", "minimum": 0, "maximum": 1},
    },
)
def judge(
    ctx: ScorerContext,
    mode: str = "closedqa",
    criteria: str | None = None,
    threshold: float = 0.5,
    **endpoint: Any,
) -> ScoreFn:
    """A model-graded score; endpoint params default to the suite-level judge."""
    if mode == "rubric" and not criteria:
        raise ParamError("criteria", "judge mode 'rubric' needs 'criteria'")
    return Judge(
        endpoint_from(endpoint, ctx.judge),
        mode,
        criteria=criteria,
        threshold=threshold,
        cache_dir=ctx.cache_dir,
        offline=ctx.offline,
    )


def describe_judges(scorers: Sequence[BoundScorer]) -> list[dict[str, Any]]:
    """What a run must record about each model-graded scorer: key, model, prompt, hash."""
    described = []
    for bound in scorers:
        if isinstance(bound.fn, Judge):
            described.append({"scorer": bound.spec.key or bound.spec.type, **bound.fn.describe()})
    return described
