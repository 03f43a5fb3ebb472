"""Figures of one run: what a case cost, with prompt-cache reads and writes priced apart."""

from __future__ import annotations

import pytest

from canary_eval.models import Usage
from canary_eval.verdict.metrics import cost_usd

PRICES = {"input_per_mtok": 3.0, "output_per_mtok": 15.0}


def test_without_cache_prices_cached_tokens_cost_the_input_price() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=0, cached_input_tokens=800_000)
    assert cost_usd(usage, PRICES) == pytest.approx(3.0)


def test_cache_reads_and_writes_are_priced_at_their_own_rates() -> None:
    usage = Usage(
        input_tokens=1_500_000,
        output_tokens=100_000,
        cached_input_tokens=1_000_000,
        cache_write_tokens=400_000,
        reasoning_tokens=60_000,  # billed as output: part of output_tokens already
    )
    prices = {**PRICES, "cached_input_per_mtok": 0.30, "cache_write_per_mtok": 3.75}
    # 100k uncached at 3.0, 1M reads at 0.30, 400k writes at 3.75, 100k output at 15.0
    assert cost_usd(usage, prices) == pytest.approx(0.3 + 0.3 + 1.5 + 1.5)
