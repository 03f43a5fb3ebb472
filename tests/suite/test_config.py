"""Suite configs: environment interpolation, paths relative to the file, thresholds' defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from canary_eval.errors import ConfigError
from canary_eval.suite.config import load_config

MINIMAL = "suite: bot\nevalset: sets/cases.yaml\nprovider: {type: openai, model: m}\n"


def test_paths_resolve_next_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "bot.yaml").write_text(MINIMAL)
    config = load_config(tmp_path / "configs" / "bot.yaml")
    assert config.evalset_path == tmp_path / "configs" / "sets" / "cases.yaml"
    assert config.baseline_path == tmp_path / "configs" / ".canary" / "bot.baseline.json"
    assert config.history_path == tmp_path / "configs" / ".canary" / "history.sqlite"


def test_only_the_quality_gate_is_on_by_default(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(MINIMAL)
    t = load_config(tmp_path / "bot.yaml").thresholds
    assert (t.max_relative_drop, t.alpha, t.max_error_rate) == (0.03, 0.05, 0.10)
    assert t.max_length_increase is None
    assert t.max_p95_latency_increase is None
    assert t.per_intent.max_relative_drop is None


def test_environment_variables_are_interpolated_with_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_URL", "http://127.0.0.1:9999/v1")
    (tmp_path / "bot.yaml").write_text(
        MINIMAL.replace("model: m}", "model: '${BOT_MODEL:-gpt-x}', base_url: '${BOT_URL}'}")
    )
    provider = load_config(tmp_path / "bot.yaml").provider
    assert (provider.model, provider.base_url) == ("gpt-x", "http://127.0.0.1:9999/v1")


def test_an_api_key_is_named_never_given(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(MINIMAL.replace("model: m}", "model: m, api_key: sk-1}"))
    with pytest.raises(ConfigError, match=r"bot.yaml:3: provider.api_key: unknown key"):
        load_config(tmp_path / "bot.yaml")
