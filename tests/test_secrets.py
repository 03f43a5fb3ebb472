"""A key echoed by a server (in an error body or in an answer) appears in no file canary writes
and in nothing it prints, whether it was sent as a Bearer token or as Azure's `api-key`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import API_KEY, CliResult, right_answer
from model_server import Fault, ModelServer

PROVIDERS = {
    "bearer": {},
    "azure": {"api_version": "2024-06-01"},
}


@pytest.mark.parametrize("provider", PROVIDERS.values(), ids=PROVIDERS.keys())
def test_a_key_echoed_by_the_server_reaches_no_file_and_no_output(
    provider: dict[str, str],
    canary: Callable[..., CliResult],
    model_server: ModelServer,
    write_suite: Callable[..., Path],
    tmp_path: Path,
) -> None:
    model_server.answer = right_answer
    suite = write_suite(model_server.base_url, provider=provider)
    baseline = canary("baseline", suite, "--quiet")
    echo = f"key {API_KEY} (Authorization: Bearer {API_KEY})"
    model_server.answer = lambda user: f"{right_answer(user)} {echo}"
    model_server.fault_for = lambda n, user: (
        Fault(400, body=json.dumps({"error": {"message": f"invalid request from {echo}"}}))
        if user.endswith("7")
        else None
    )

    run = canary(
        "run", suite, "--json", "r.json", "--html", "r.html", "--markdown", "r.md",
        "--junit", "r.xml", "--save-run", "saved.json",
    )  # fmt: skip

    sent = model_server.requests[-1]["headers"]
    assert API_KEY in (sent.get("Authorization", "") + sent.get("api-key", ""))
    assert run.exit_code in (1, 3), run.output
    report = json.loads(Path("r.json").read_text())
    assert any("***" in (case["error"] or {}).get("message", "") for case in report["cases"])
    assert any("***" in (case["output"] or "") for case in report["cases"])
    for result in (baseline, run):
        assert API_KEY not in result.output
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 7
    for path in written:
        assert API_KEY.encode() not in path.read_bytes(), path
