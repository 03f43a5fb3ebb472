"""Call one provider once against a real recording server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from canary_eval.models import Case, Completion
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.suite.config import ProviderConfig

from factories import RecordingServer


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


def complete(config: ProviderConfig, case: Case | None = None, system: str | None = "Be brief.",
             user: str = "Where are my invoices?") -> Completion:  # fmt: skip
    return complete_request(config, ChatRequest(case or Case(id="c1", input=user), system, user))


def complete_request(config: ProviderConfig, request: ChatRequest) -> Completion:
    async def call() -> Completion:
        provider = create_provider(config)
        try:
            return await provider.complete(request)
        finally:
            await provider.aclose()

    return asyncio.run(call())


def provider(type_: str, **fields: Any) -> ProviderConfig:
    options = {
        k: fields.pop(k) for k in list(fields) if k not in ProviderConfig.__dataclass_fields__
    }
    return ProviderConfig(type=type_, options=options, **fields)
