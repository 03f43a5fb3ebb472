"""Recorded outputs replayed by case id, for re-scoring and offline CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canary_eval.models import Case
from canary_eval.run.providers import CallFailure

from .conftest import complete, provider


def test_outputs_are_replayed_by_case_id_from_jsonl(tmp_path: Path) -> None:
    recording = tmp_path / "outputs.jsonl"
    recording.write_text(
        json.dumps({"id": "a", "output": "first", "model": "m1", "output_tokens": 2}) + "\n"
        + json.dumps({"id": "b", "output": "second"}) + "\n"
    )  # fmt: skip
    config = provider("replay", path=str(recording))

    assert complete(config, Case(id="b", input="?")).text == "second"
    replayed = complete(config, Case(id="a", input="?"))
    assert (replayed.text, replayed.model, replayed.usage.output_tokens) == ("first", "m1", 2)
    with pytest.raises(CallFailure, match="no recorded output"):
        complete(config, Case(id="zzz", input="?"))
