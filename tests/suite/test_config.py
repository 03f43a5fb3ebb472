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


def test_every_gate_is_on_by_default_and_null_turns_one_off(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(MINIMAL)
    t = load_config(tmp_path / "bot.yaml").thresholds
    assert (t.max_relative_drop, t.alpha, t.max_error_rate) == (0.03, 0.05, 0.10)
    assert (t.max_length_increase, t.max_refusal_rate_increase) == (0.25, 0.05)
    assert (t.max_hedging_rate_increase, t.max_format_failure_increase) == (0.10, 0.05)
    assert (t.max_p95_latency_increase, t.min_p95_latency_increase_ms) == (0.50, 300.0)
    assert (t.max_cost_per_case_increase, t.max_error_rate_increase) == (0.20, 0.05)
    assert t.per_intent.max_relative_drop == 0.10

    (tmp_path / "off.yaml").write_text(MINIMAL + "thresholds: {max_p95_latency_increase: null}\n")
    assert load_config(tmp_path / "off.yaml").thresholds.max_p95_latency_increase is None


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


@pytest.mark.parametrize(
    ("reference", "unset", "empty", "set_"),
    [
        ("${BOT_MODEL:-dflt}", "dflt", "dflt", "real"),  # POSIX: unset or empty
        ("${BOT_MODEL-dflt}", "dflt", "", "real"),  # POSIX: unset only
        ("${BOT_MODEL}", None, "", "real"),
    ],
)
def test_defaults_follow_posix_for_unset_and_empty_variables(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: str,
    unset: str | None,
    empty: str,
    set_: str,
) -> None:
    (tmp_path / "bot.yaml").write_text(MINIMAL + f"prompt: {{system: '{reference}'}}\n")
    monkeypatch.delenv("BOT_MODEL", raising=False)
    if unset is None:
        with pytest.raises(ConfigError, match=r"prompt.system: .*BOT_MODEL: not set"):
            load_config(tmp_path / "bot.yaml")
    else:
        assert load_config(tmp_path / "bot.yaml").prompt.system == unset
    for value, expected in (("", empty), ("real", set_)):
        monkeypatch.setenv("BOT_MODEL", value)
        assert load_config(tmp_path / "bot.yaml").prompt.system == expected


def test_a_required_variable_says_its_own_message_when_unset_or_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bot.yaml").write_text(
        MINIMAL.replace("model: m}", "model: '${BOT_MODEL:?set it to the pinned version}'}")
    )
    monkeypatch.setenv("BOT_MODEL", "")
    with pytest.raises(
        ConfigError, match=r"bot.yaml:3: provider.model: .*BOT_MODEL: set it to the pinned"
    ):
        load_config(tmp_path / "bot.yaml")
    monkeypatch.setenv("BOT_MODEL", "gpt-x")
    assert load_config(tmp_path / "bot.yaml").provider.model == "gpt-x"


@pytest.mark.parametrize(
    ("provider", "key_var", "url_var", "url"),
    [
        ("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
        ("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "http://127.0.0.1:1"),
    ],
)
def test_a_provider_that_names_no_variables_uses_the_vendors_conventional_ones(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    key_var: str,
    url_var: str,
    url: str,
) -> None:
    (tmp_path / "bot.yaml").write_text(MINIMAL.replace("type: openai", f"type: {provider}"))
    monkeypatch.delenv(key_var, raising=False)
    monkeypatch.delenv(url_var, raising=False)
    bare = load_config(tmp_path / "bot.yaml").provider
    assert (bare.api_key_env, bare.base_url) == (None, "")  # nothing set: nothing assumed
    monkeypatch.setenv(key_var, "sk-x")
    monkeypatch.setenv(url_var, url)
    found = load_config(tmp_path / "bot.yaml").provider
    assert (found.api_key_env, found.base_url) == (key_var, url)
    named = MINIMAL.replace("model: m}", "model: m, api_key_env: MINE, base_url: http://h/v1}")
    (tmp_path / "bot.yaml").write_text(named.replace("type: openai", f"type: {provider}"))
    configured = load_config(tmp_path / "bot.yaml").provider
    assert (configured.api_key_env, configured.base_url) == ("MINE", "http://h/v1")


def test_set_overrides_any_key_and_is_validated_like_the_file(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text(MINIMAL)
    config = load_config(
        tmp_path / "bot.yaml",
        {"provider.model": "gpt-4o-2026-01", "thresholds.alpha": "0.1", "quarantine": "[a, b]"},
    )
    assert config.provider.model == "gpt-4o-2026-01"
    assert config.thresholds.alpha == 0.1
    assert config.quarantine == {"a", "b"}
    assert config.overrides["provider.model"] == "gpt-4o-2026-01"
    with pytest.raises(ConfigError, match=r"bot.yaml: provider.concurrency \(--set\): must be an"):
        load_config(tmp_path / "bot.yaml", {"provider.concurrency": "zero"})
    with pytest.raises(ConfigError, match=r"provider.modle \(--set\): unknown key"):
        load_config(tmp_path / "bot.yaml", {"provider.modle": "x"})
