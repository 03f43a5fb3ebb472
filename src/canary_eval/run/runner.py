"""One canary run: render every case's prompt, call the model through the engine, score the
outputs, and return a `RunResult`. No comparison happens here; that is `compare.py`'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import inspect
import math
import statistics
import threading
import time
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import cast

from canary_eval.errors import AuthError, Interrupted
from canary_eval.models import (
    Behaviour,
    CallError,
    CallOutcome,
    Case,
    CaseResult,
    Completion,
    EvalSet,
    RunInfo,
    RunResult,
    Score,
    Usage,
)
from canary_eval.run.agent import looping
from canary_eval.run.engine import Engine, ProgressCallback
from canary_eval.run.providers import ChatRequest, create_provider
from canary_eval.run.scoring import CaseScorers, check_suite, judges, scorers_hash
from canary_eval.scorers import (
    BoundScorer,
    Scored,
    ScoreInput,
    measure_behaviour,
    score_case,
    scoring,
)
from canary_eval.suite.config import SuiteConfig
from canary_eval.suite.prompts import render

# A run that has not finished in half an hour is stuck; an hourly cron run must never overlap the
# next one. `--deadline` changes it.
DEFAULT_DEADLINE_S = 1800.0


@dataclass(frozen=True)
class RunOptions:
    repeats: int = 1
    concurrency: int | None = None
    deadline_s: float | None = DEFAULT_DEADLINE_S
    case_ids: frozenset[str] | None = None  # run only these (confirmation re-runs)
    warm_imports: tuple[str, ...] = ()  # what the caller needs after the calls (see below)


def run_suite(
    config: SuiteConfig,
    evalset: EvalSet,
    options: RunOptions = RunOptions(),
    on_progress: ProgressCallback | None = None,
) -> RunResult:
    scorers = check_suite(config, evalset)
    cases = [c for c in evalset.cases if options.case_ids is None or c.id in options.case_ids]
    started = time.monotonic()
    warming = _import_in_background(options.warm_imports)
    try:
        with relaxed_gc():
            results = asyncio.run(_call_and_score(config, cases, options, scorers, on_progress))
    except AuthError as error:
        # The provider knows the key path; the suite knows the file it is in.
        raise AuthError(error.message, path=config.path, key=error.key) from None
    except Interrupted as stop:
        outcomes = cast(list[CallOutcome], stop.partial or [])
        finished = {o.case_id: o for o in outcomes} if options.repeats == 1 else {}
        done = [c for c in cases if c.id in finished]
        partial = asyncio.run(_score_all(done, [finished[c.id] for c in done], scorers, 1))
        raise Interrupted(
            f"interrupted: {len(done)} of {len(cases)} cases finished",
            RunResult(_info(config, evalset, options, scorers), tuple(partial)),
        ) from None
    finally:
        if warming is not None:
            warming.join()
    info = _info(config, evalset, options, scorers)
    return RunResult(replace(info, duration_s=round(time.monotonic() - started, 3)), tuple(results))


def _import_in_background(modules: Sequence[str]) -> threading.Thread | None:
    """Import what comes after the calls (statistics, reports) while the calls are in flight.

    The event loop spends a run waiting on sockets; an import on another thread takes the GIL
    in slices of a few milliseconds, so the requests still go out at once, and the verdict does
    not wait for numpy after the last answer. A failed import is left to the caller, who will
    import the module again and see the error where it belongs.
    """
    if not modules:
        return None

    def load() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    thread = threading.Thread(target=load, name="canary-imports", daemon=True)
    thread.start()
    return thread


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Collect garbage less often while results pile up, and never walk what was there before
    nor what the run built.

    Almost nothing a run allocates is garbage, yet every 700 allocations the collector walks
    the young objects and, ever more often, all the others: re-scoring 20,000 cases takes 3.2 s
    with the higher threshold instead of 5.3 s. What is alive when the run starts (the suite,
    the eval set, the modules) is frozen for the run: no collection during it walks them. What
    the run built is frozen too when it ends: the verdict and reports that follow, and the
    collection at interpreter exit, would otherwise walk every result again (a 2,000-case
    `canary run` spends about 4 % less CPU). The price is that a cycle the run left behind is never
    collected; freed by reference counting, the results themselves go as usual."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(before[0], 50_000), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.freeze()


def _info(
    config: SuiteConfig,
    evalset: EvalSet,
    options: RunOptions,
    scorers: CaseScorers,
) -> RunInfo:
    return RunInfo(
        suite=config.suite,
        evalset_hash=evalset.hash,
        prompt_hash=config.prompt.hash,
        provider=config.provider.type,
        model=config.provider.model,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        scorers_hash=scorers_hash(scorers),
        judges=tuple(judges(scorers)),
        repeats=options.repeats,
        overrides=dict(config.overrides),
        pricing=config.provider.pricing.as_dict(),
    )


async def _call_and_score(
    config: SuiteConfig,
    cases: Sequence[Case],
    options: RunOptions,
    scorers: CaseScorers,
    on_progress: ProgressCallback | None,
) -> list[CaseResult]:
    """Call the model for every case and score each answer the moment it arrives, so that
    scoring is done when the last call returns."""
    t0 = time.monotonic()
    provider_config = config.provider
    if options.concurrency:  # the connections are sized to the concurrency actually used
        provider_config = replace(provider_config, concurrency=options.concurrency)
    turns = config.prompt.max_turns
    provider = looping(create_provider(provider_config), turns)
    backup = config.provider.fallback
    fallback = looping(create_provider(backup), turns) if backup else None
    repeats = options.repeats
    requests = [request(config, case) for case in cases for _ in range(repeats)]
    # per request: its scored result, the task scoring it (its scorers call out), or None
    scored: list[CaseResult | asyncio.Task[CaseResult] | None] = [None] * len(requests)

    def arrived(index: int, outcome: CallOutcome) -> None:
        if outcome.completion is not None:
            case = cases[index // repeats]
            result = _score_run(case, outcome, scorers[case.id])
            scored[index] = (
                result if isinstance(result, CaseResult) else asyncio.ensure_future(result)
            )

    # One failed case more than max_error_rate allows decides the verdict (error, exit 3):
    # with repeats a case fails only when all its runs do, so no call count can tell early.
    budget = math.floor(config.thresholds.max_error_rate * len(cases)) if repeats == 1 else None
    engine = Engine(provider, fallback, options.concurrency, on_progress, error_budget=budget)
    try:
        outcomes = await engine.run(requests, deadline_s=options.deadline_s, on_outcome=arrived)
        started = [task for task in scored if isinstance(task, asyncio.Task)]
        if started:
            # The deadline covers scoring too: what is not scored by then is a deadline error.
            limit = options.deadline_s
            left = None if limit is None else max(0.0, limit - (time.monotonic() - t0))
            await asyncio.wait(started, timeout=left)
        for done in started:
            if done.done() and not done.cancelled() and (error := done.exception()) is not None:
                raise error
    finally:
        for task in scored:
            if isinstance(task, asyncio.Task):
                task.cancel()
        await provider.aclose()
        if fallback is not None:
            await fallback.aclose()
    results = [_settled(result) for result in scored]
    outcomes = [
        o if r is not None or o.completion is None else _unscored(o, options.deadline_s)
        for o, r in zip(outcomes, results, strict=True)
    ]
    return [
        _combined(
            case,
            outcomes[i * repeats : (i + 1) * repeats],
            results[i * repeats : (i + 1) * repeats],
        )
        for i, case in enumerate(cases)
    ]


def _settled(result: CaseResult | asyncio.Task[CaseResult] | None) -> CaseResult | None:
    """The scored result, None when there is none (a failed call, scoring cut by the deadline)."""
    if isinstance(result, asyncio.Task):
        return result.result() if result.done() and not result.cancelled() else None
    return result


def _unscored(outcome: CallOutcome, deadline_s: float | None) -> CallOutcome:
    message = f"answered, but not scored within the {deadline_s or 0:g}s deadline"
    return replace(outcome, completion=None, error=CallError("deadline", message))


def request(config: SuiteConfig, case: Case) -> ChatRequest:
    """The case's prompt as production sends it."""
    p = render(config.prompt, case)
    return ChatRequest(
        case, p.system, p.user, p.messages, p.tools, p.tool_choice, p.response_format
    )


async def _score_all(
    cases: Sequence[Case],
    outcomes: Sequence[CallOutcome],
    scorers: CaseScorers,
    repeats: int,
) -> list[CaseResult]:
    async def scored(case: Case, run: CallOutcome) -> CaseResult | None:
        if run.completion is None:
            return None
        result = _score_run(case, run, scorers[case.id])
        return result if isinstance(result, CaseResult) else await result

    results = await asyncio.gather(
        *(scored(cases[i // repeats], run) for i, run in enumerate(outcomes))
    )
    return [
        _combined(
            case,
            outcomes[i * repeats : (i + 1) * repeats],
            results[i * repeats : (i + 1) * repeats],
        )
        for i, case in enumerate(cases)
    ]


def _score_run(
    case: Case, run: CallOutcome, scorers: list[BoundScorer]
) -> CaseResult | Awaitable[CaseResult]:
    """One answered call, scored: at once, or an awaitable when a scorer calls out."""
    assert run.completion is not None
    scored = scoring(scorers, ScoreInput(run.completion.text, case, run.completion))
    if inspect.isawaitable(scored):
        return _result_when_scored(case, run, scored)
    return case_result(case, run, *scored)


async def _result_when_scored(
    case: Case, run: CallOutcome, scored: Awaitable[Scored]
) -> CaseResult:
    return case_result(case, run, *(await scored))


def _combined(
    case: Case, runs: Sequence[CallOutcome], scored: Sequence[CaseResult | None]
) -> CaseResult:
    """A case from its runs: the first answered run, with the mean score over all of them and
    the tokens of all of them (each was a billed call)."""
    answered = [result for result in scored if result is not None]
    if not answered:
        return case_result(case, runs[0], math.nan, ())
    samples = tuple(r.score for r in answered if r.score is not None)
    score = statistics.fmean(samples) if samples else None
    usage = sum((r.usage for r in answered[1:]), answered[0].usage)
    return replace(answered[0], score=score, samples=samples if len(runs) > 1 else (), usage=usage)


def case_result(
    case: Case, run: CallOutcome, value: float, scores: tuple[Score, ...]
) -> CaseResult:
    """A case's result from its call and its scores (NaN: the case could not be scored)."""
    completion = run.completion
    return CaseResult(
        id=case.id,
        intent=case.intent,
        content_hash=case.content_hash,
        output=completion.text if completion else None,
        score=None if math.isnan(value) else value,
        scores=scores,
        error=run.error,
        latency_ms=run.latency_ms,
        usage=completion.usage if completion else Usage(),
        model=completion.model if completion else None,
        fingerprint=completion.fingerprint if completion else None,
        attempts=run.attempts,
        rate_limited=run.rate_limited,
        fallback=run.fallback,
        behaviour=(
            measure_behaviour(completion.text, completion, case=case) if completion else Behaviour()
        ),
        metadata=case.metadata,
        tool_calls=completion.tool_calls if completion else (),
        turns=completion.turns if completion else 1,
    )


def rescore(config: SuiteConfig, evalset: EvalSet, saved: RunResult) -> RunResult:
    """Score a saved run's outputs again with the suite's current scorers; no model calls.

    Cases the eval set no longer has are dropped; errored cases stay errored.
    """
    scorers = check_suite(config, evalset, offline=True)
    by_id = {case.id: case for case in evalset.cases}
    kept = [c for c in saved.cases if c.id in by_id]

    async def score_all() -> list[CaseResult]:
        return list(await asyncio.gather(*(_rescore(by_id[c.id], c, scorers[c.id]) for c in kept)))

    info = replace(
        saved.info,
        scorers_hash=scorers_hash(scorers),
        judges=tuple(judges(scorers)),
        evalset_hash=evalset.hash,
    )
    with relaxed_gc():
        return RunResult(info, tuple(asyncio.run(score_all())))


async def _rescore(case: Case, saved: CaseResult, scorers: list[BoundScorer]) -> CaseResult:
    if saved.output is None:
        return replace(saved, content_hash=case.content_hash)
    completion = Completion(
        saved.output,
        saved.model,
        saved.fingerprint,
        saved.usage,
        tool_calls=saved.tool_calls,
        turns=saved.turns,
    )
    value, scores = await score_case(scorers, ScoreInput(saved.output, case, completion))
    return replace(
        saved,
        content_hash=case.content_hash,
        score=None if math.isnan(value) else value,
        scores=scores,
        behaviour=measure_behaviour(saved.output, completion, case=case),
        samples=(),
    )
