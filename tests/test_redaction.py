"""Which configured values are secrets, and the forms in which they are redacted."""

from __future__ import annotations

from canary_eval.redaction import Redactor, credential_headers, redact, register_config


def test_a_config_registers_every_variable_a_key_ending_in_env_names_and_credential_headers() -> (
    None
):
    env = {"KEY_A": "sk-alpha-0001", "HOOK": "https://hooks.example/T0/B0/secretpath", "X": "x"}
    config = {
        "provider": {"api_key_env": "KEY_A", "headers": {"X-Team": "support",
                                                          "X-Api-Token": "tok-beta-0002"}},
        "scorers": [{"type": "embedding", "api_key_env": "UNSET"}],
        "alerts": {"slack": {"webhook_url_env": "HOOK"}},
    }  # fmt: skip

    register_config(config, env)

    text = redact("sk-alpha-0001 tok-beta-0002 /T0/B0/secretpath support")
    assert text == "*** *** *** support"


def test_bearer_values_and_url_encoded_forms_are_redacted() -> None:
    redactor = Redactor(["Bearer tok/with space"])
    assert redactor("tok/with space|tok%2Fwith%20space") == "***|***"


def test_only_headers_named_like_credentials_are_secrets() -> None:
    headers = {"Authorization": "a", "api-key": "b", "Cookie": "c", "X-Team": "d", "Accept": "e"}
    assert credential_headers(headers) == ["a", "b", "c"]
