"""Client-side flow control: AIMD concurrency, rpm/tpm pacing, and the server's headroom."""

from __future__ import annotations

import asyncio
import time

from canary_eval.run.limits import AdaptiveLimit, Pacer


def test_adaptive_limit_halves_on_a_429_and_climbs_back_one_slot_per_success() -> None:
    async def go() -> list[int]:
        limit = AdaptiveLimit(ceiling=8)
        seen = [limit.limit]
        limit.on_throttled(sent_at=time.monotonic())
        seen.append(limit.limit)
        for _ in range(4):
            await limit.on_success()
        seen.append(limit.limit)
        return seen

    assert asyncio.run(go()) == [8, 4, 8]


def test_a_burst_of_429s_cuts_once_and_growth_above_the_old_limit_is_one_per_window() -> None:
    async def go() -> list[int]:
        limit = AdaptiveLimit(ceiling=16, limit=8)
        sent = time.monotonic()
        limit.on_throttled(sent_at=sent)
        limit.on_throttled(sent_at=sent)  # in flight with the first: the same burst
        seen = [limit.limit]
        for _ in range(4):
            await limit.on_success()
        seen.append(limit.limit)  # back at the limit the burst found
        for _ in range(8):
            await limit.on_success()
        seen.append(limit.limit)  # a whole window of successes for one more slot
        return seen

    assert asyncio.run(go()) == [4, 8, 9]


def starts(pacer: Pacer, tokens: list[int]) -> list[float]:
    """When each request was let through, in seconds from the first."""

    async def go() -> list[float]:
        begin = time.monotonic()
        times = []
        for n in tokens:
            await pacer.wait(n)
            times.append(time.monotonic() - begin)
        return times

    return asyncio.run(go())


def test_rpm_spaces_starts_evenly() -> None:
    times = starts(Pacer(rpm=1200), [1] * 4)  # one every 50 ms
    assert times[-1] >= 0.14


def test_tpm_lets_a_full_bucket_through_then_waits_for_refill() -> None:
    times = starts(Pacer(tpm=600_000), [300_000, 300_000, 2_000])  # 10,000 tokens a second
    assert times[1] < 0.05  # the bucket starts full
    assert 0.15 <= times[2] < 0.5  # 2,000 tokens refill in 0.2 s


def test_after_the_server_runs_out_one_probe_goes_first() -> None:
    async def go() -> tuple[int, int]:
        pacer = Pacer()
        await pacer.observe(remaining=0, reset_s=0.05)
        waiting = [asyncio.ensure_future(pacer.wait(1)) for _ in range(3)]
        await asyncio.sleep(0.15)
        through_after_reset = sum(w.done() for w in waiting)
        await pacer.observe(remaining=50, reset_s=1.0)  # the probe's answer
        await asyncio.sleep(0.01)
        return through_after_reset, sum(w.done() for w in waiting)

    assert asyncio.run(go()) == (1, 3)
