"""Replays recorded outputs by case id: from a saved run or baseline, or a JSONL file of
`{"id": ..., "output": ...}` lines. For re-scoring and for CI that must not call a model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from canary_eval.errors import ConfigError
from canary_eval.models import Completion, Usage
from canary_eval.run.providers.base import CallFailure, ChatRequest
from canary_eval.store.baseline import load_run
from canary_eval.suite.config import ProviderConfig


@dataclass
class ReplayProvider:
    config: ProviderConfig
    recorded: dict[str, Completion] = field(init=False)

    def __post_init__(self) -> None:
        path = Path(str(self.config.options.get("path", "")))
        if not self.config.options.get("path"):
            raise ConfigError("a replay provider needs `path`", key=f"{self.config.key}.path")
        self.recorded = load_recorded(path)

    async def complete(self, request: ChatRequest) -> Completion:
        try:
            return self.recorded[request.case.id]
        except KeyError:
            raise CallFailure("client_error", "no recorded output for this case") from None

    async def aclose(self) -> None:
        return None


def load_recorded(path: Path) -> dict[str, Completion]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return _from_jsonl(path)
    run = load_run(path, what="recording")
    return {
        case.id: Completion(
            case.output,
            case.model,
            case.fingerprint,
            case.usage,
            tool_calls=case.tool_calls,
            turns=case.turns,
        )
        for case in run.cases
        if case.output is not None
    }


def _from_jsonl(path: Path) -> dict[str, Completion]:
    recorded: dict[str, Completion] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read recording: {exc}", path=path) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            recorded[str(row["id"])] = Completion(
                text=str(row["output"]),
                model=row.get("model"),
                usage=Usage(int(row.get("input_tokens", 0)), int(row.get("output_tokens", 0))),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"bad recording line: {exc}", path=path, line=number) from None
    return recorded
