"""The scorer registry: scorers declare themselves once under a type name, configs name them.

A scorer is a factory. It is registered with `@scorer("name", params={...})`, where `params` is
the JSON Schema of its parameters' properties, and it is called once per configured use with the
validated parameters as keyword arguments (and the `ScorerContext` as `ctx` when it asks for it).
It returns the function that scores one output: sync or async, taking a `ScoreInput`, returning
a `Score`.

Custom scorers come from a `module:function` path in the suite config or from the
`canary_eval.scorers` entry-point group, and are validated the same way as built-in ones: a
registered factory by its declared schema, an undecorated one by its signature (parameter names,
defaults and simple annotations: str, int, float, bool, list, dict, Literal and `X | None`).

A `module:function` path imports and runs code, so it is only resolved where the context allows
it: a suite config that opts in with `allow_custom_scorers: true`. Eval sets are data, often
written by people who cannot change the code; their cases never get that context, and the path
is refused before anything is imported. Entry points are code the team installed.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canary_eval.errors import CanaryError, ConfigError
from canary_eval.models import Case, Completion, Score, ScorerSpec
from canary_eval.scorers.params import describe_schema, json_type, signature_schema
from canary_eval.suite.document import format_key
from canary_eval.suite.schemas.compiled import Check, compile_check

if TYPE_CHECKING:
    import jsonschema

BUILTIN_MODULES = (
    "text",
    "numbers",
    "overlap",
    "structured",
    "similarity",
    "behaviour",
    "judge",
    "grounded",
    "tools",
)


@dataclass(frozen=True)
class ScoreInput:
    """What a scorer sees: the output, the case it answers, and the raw completion if any."""

    output: str
    case: Case
    completion: Completion | None = None

    @property
    def references(self) -> tuple[str, ...]:
        """Every non-blank reference of the case: `reference`, then a `references` list field."""
        found: list[str] = []
        candidates: list[Any] = [self.case.reference]
        for name in ("reference", "references"):
            extra = self.case.fields.get(name)
            candidates.extend(extra if isinstance(extra, list | tuple) else [extra])
        for ref in candidates:
            for one in ref if isinstance(ref, list | tuple) else [ref]:
                if isinstance(one, int | float) and not isinstance(one, bool):
                    one = str(one)
                if isinstance(one, str) and one.strip() and one not in found:
                    found.append(one)
        return tuple(found)


@dataclass(frozen=True)
class ScorerContext:
    """What a scorer may need beyond its parameters.

    `judge` holds the suite-level judge settings when the suite configures one: a mapping with
    `base_url`, `model` and optionally `api_key_env`, `timeout_s` and `max_retries` (or an
    object with those attributes, such as an `endpoint.Endpoint`). Model-backed scorers (judge,
    embedding, grounded with a judge) use it when they are not given their own endpoint.
    `cache_dir` is where judge verdicts are cached across runs. With `offline`, as when re-scoring
    a saved run, model-backed scorers make no calls: what is not cached is an invalid score.
    """

    config_path: Path = Path("suite.yaml")
    judge: Any = None
    cache_dir: Path | None = None
    offline: bool = False
    allow_custom_scorers: bool = False  # `module:function` types may be imported

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent


ScoreFn = Callable[[ScoreInput], Score | Awaitable[Score]]
ScorerFactory = Callable[..., ScoreFn]


class ParamError(ValueError):
    """A factory's complaint about one of its parameters; `create` names it in the key path."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class ScorerType:
    name: str
    factory: ScorerFactory
    params: Mapping[str, Any]
    required: tuple[str, ...] = ()
    open_params: bool = False  # the factory takes **kwargs: unknown parameters are allowed


_REGISTRY: dict[str, ScorerType] = {}


def scorer(
    name: str,
    *,
    params: Mapping[str, Any] | None = None,
    required: Sequence[str] = (),
) -> Callable[[ScorerFactory], ScorerFactory]:
    """Register a scorer factory under `name`; `params` maps parameter names to JSON Schemas."""

    def register(factory: ScorerFactory) -> ScorerFactory:
        _REGISTRY[name] = ScorerType(name, factory, dict(params or {}), tuple(required))
        return factory

    return register


def registered() -> dict[str, ScorerType]:
    _load_builtins()
    return dict(_REGISTRY)


@dataclass(frozen=True)
class BoundScorer:
    """A configured scorer, ready to score outputs.

    Calling it never raises for a scorer's own failure: an exception, a non-Score result or a
    NaN value becomes an invalid Score that says why, so one odd output cannot end a run.
    Canary's own errors (an AuthError from a judge, say) do propagate.
    """

    spec: ScorerSpec
    fn: ScoreFn

    async def __call__(self, item: ScoreInput) -> Score:
        started = self.start(item)
        return started if isinstance(started, Score) else await started

    def start(self, item: ScoreInput) -> Score | Awaitable[Score]:
        """The score at once from a synchronous scorer, else an awaitable of it."""
        try:
            result = self.fn(item)
        except CanaryError:
            raise
        except Exception as exc:
            return self._failed(exc)
        return self._finished(result) if inspect.isawaitable(result) else self._checked(result)

    async def _finished(self, result: Awaitable[Score]) -> Score:
        try:
            score = await result
        except CanaryError:
            raise
        except Exception as exc:
            return self._failed(exc)
        return self._checked(score)

    def _failed(self, exc: Exception) -> Score:
        return Score(
            0.0, False, f"scorer failed: {type(exc).__name__}: {exc}", self.spec.type, True
        )

    def _checked(self, score: object) -> Score:
        name = self.spec.type
        if not isinstance(score, Score):
            return Score(0.0, False, f"scorer returned {type(score).__name__}", name, True)
        value = float(score.value)
        if math.isnan(value):
            return Score(0.0, False, score.explanation or "NaN", score.scorer or name, True)
        return Score(
            value=min(1.0, max(0.0, value)),
            passed=score.passed and not score.invalid,
            explanation=score.explanation,
            scorer=score.scorer or name,
            invalid=score.invalid,
        )


Scored = tuple[float, tuple[Score, ...]]  # a case's weighted score and every scorer's score


def scoring(scorers: Sequence[BoundScorer], item: ScoreInput) -> Scored | Awaitable[Scored]:
    """Score one output with every scorer: their weighted mean and the scores, at once when
    every scorer is synchronous, as nearly all are, else an awaitable of them (the scorers that
    call out, judges and endpoints, concurrently). No task is made for a synchronous scorer: at
    a few thousand cases a task per scorer cost a tenth of a run's CPU.

    Invalid scores are left out of the mean. When nothing valid with a positive weight remains
    (no scorers, all invalid, or only weight-0 "report only" scorers), the case score is NaN:
    the case could not be scored, which is different from scoring 0.
    """
    started = [s.start(item) for s in scorers]
    scores = [s for s in started if isinstance(s, Score)]
    if len(scores) == len(started):
        return _weighted(scorers, scores)
    return _gathered(scorers, started)


async def score_case(scorers: Sequence[BoundScorer], item: ScoreInput) -> Scored:
    """`scoring`, awaited."""
    scored = scoring(scorers, item)
    return await scored if inspect.isawaitable(scored) else scored


async def _gathered(
    scorers: Sequence[BoundScorer], started: list[Score | Awaitable[Score]]
) -> Scored:
    import asyncio  # loaded by the time anything is scored; `canary validate` never needs it

    waiting = [s for s in started if not isinstance(s, Score)]
    done = iter(await asyncio.gather(*waiting))
    return _weighted(scorers, [s if isinstance(s, Score) else next(done) for s in started])


def _weighted(scorers: Sequence[BoundScorer], scores: Sequence[Score]) -> Scored:
    total = weight = 0.0
    for bound, score in zip(scorers, scores, strict=True):
        if not score.invalid and bound.spec.weight > 0:
            total += bound.spec.weight * score.value
            weight += bound.spec.weight
    return (total / weight if weight > 0 else math.nan), tuple(scores)


def create(spec: ScorerSpec, ctx: ScorerContext) -> BoundScorer:
    """Build one configured scorer; a bad type or parameter is a ConfigError naming the key."""
    kind = _resolve(spec, ctx)
    check, validator = _params_validator(kind)
    params = dict(spec.params)
    errors = [] if check is not None and check(params) else validator().iter_errors(params)
    errors = sorted(errors, key=lambda e: (len(e.absolute_path), str(e.message)))
    if errors:
        err = errors[0]
        where = format_key(tuple(err.absolute_path))
        if err.validator == "additionalProperties":
            known = ", ".join(sorted(kind.params)) or "none"
            message = f"unknown parameter for scorer '{spec.type}' (known: {known})"
            extra = sorted(set(spec.params) - set(kind.params))
            where = extra[0] if extra else where
        elif err.validator == "required":
            missing = next((r for r in kind.required if r not in spec.params), "")
            message = f"required by scorer '{spec.type}'"
            where = _join(where, missing)
        elif err.validator in ("type", "anyOf"):
            message = f"expected {describe_schema(err.schema)}, got {json_type(err.instance)}"
        else:
            message = err.message
        raise ConfigError(message, path=ctx.config_path, key=_join(spec.key, where))
    kwargs = dict(spec.params)
    try:
        accepts_ctx = "ctx" in inspect.signature(kind.factory).parameters
    except (TypeError, ValueError):
        accepts_ctx = False
    if accepts_ctx:
        kwargs["ctx"] = ctx
    try:
        fn = kind.factory(**kwargs)
    except ParamError as exc:
        raise ConfigError(str(exc), path=ctx.config_path, key=_join(spec.key, exc.param)) from exc
    except (ValueError, OSError, TypeError) as exc:
        raise ConfigError(str(exc), path=ctx.config_path, key=spec.key or None) from exc
    if not callable(fn):
        raise ConfigError(
            f"scorer '{spec.type}' returned {type(fn).__name__}, not a scoring function",
            path=ctx.config_path,
            key=_join(spec.key, "type"),
        )
    return BoundScorer(spec, fn)


_VALIDATORS: dict[str, tuple[ScorerType, Check | None, Callable[[], jsonschema.Validator]]] = {}


def _params_validator(
    kind: ScorerType,
) -> tuple[Check | None, Callable[[], jsonschema.Validator]]:
    """One quick check per scorer type (a suite builds the same scorers for every case), and
    jsonschema to find the problem when the quick check does not accept the parameters."""
    cached = _VALIDATORS.get(kind.name)
    if cached is None or cached[0] is not kind:
        schema = {
            "type": "object",
            "properties": dict(kind.params),
            "required": list(kind.required),
            "additionalProperties": kind.open_params,
        }

        def validator() -> jsonschema.Validator:
            import jsonschema

            return jsonschema.Draft202012Validator(schema)

        cached = _VALIDATORS[kind.name] = (kind, compile_check(schema), validator)
    return cached[1], cached[2]


def _join(prefix: str, where: str) -> str:
    if not where:
        return prefix
    if not prefix or where.startswith("["):
        return prefix + where
    return f"{prefix}.{where}"


def _resolve(spec: ScorerSpec, ctx: ScorerContext) -> ScorerType:
    _load_builtins()
    if spec.type in _REGISTRY:
        return _REGISTRY[spec.type]
    if ":" in spec.type:
        if not ctx.allow_custom_scorers:
            raise ConfigError(
                f"custom scorer '{spec.type}' refused: a `module:function` scorer runs code, so "
                "only the suite config may name one, with `allow_custom_scorers: true`",
                path=ctx.config_path,
                key=_join(spec.key, "type"),
            )
        module_name, _, attr = spec.type.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"cannot load custom scorer '{spec.type}': {exc}",
                path=ctx.config_path,
                key=_join(spec.key, "type"),
            ) from exc
        return _custom_type(spec.type, factory, spec, ctx)
    from importlib.metadata import entry_points  # only for a type that is not built in

    for ep in entry_points(group="canary_eval.scorers"):
        if ep.name == spec.type:
            try:
                loaded = ep.load()  # a decorated factory registers itself on import
            except Exception as exc:
                raise ConfigError(
                    f"cannot load scorer '{spec.type}' from entry point {ep.value}: {exc}",
                    path=ctx.config_path,
                    key=_join(spec.key, "type"),
                ) from exc
            if spec.type in _REGISTRY:
                return _REGISTRY[spec.type]
            return _custom_type(spec.type, loaded, spec, ctx)
    known = ", ".join(sorted(_REGISTRY))
    raise ConfigError(
        f"unknown scorer type '{spec.type}' (known: {known})",
        path=ctx.config_path,
        key=_join(spec.key, "type"),
    )


def _custom_type(name: str, factory: Any, spec: ScorerSpec, ctx: ScorerContext) -> ScorerType:
    found = next((t for t in _REGISTRY.values() if t.factory is factory), None)
    if found is not None:
        return found
    if not callable(factory):
        raise ConfigError(
            f"custom scorer '{name}' is {type(factory).__name__}, not a scorer factory",
            path=ctx.config_path,
            key=_join(spec.key, "type"),
        )
    params, required, open_params = signature_schema(factory)
    return ScorerType(name, factory, params, required, open_params)


_builtins_loaded = False


def _load_builtins() -> None:
    # Importing the package's modules runs their @scorer decorators; once is enough.
    global _builtins_loaded
    if not _builtins_loaded:
        for module in BUILTIN_MODULES:
            importlib.import_module(f"canary_eval.scorers.{module}")
        _builtins_loaded = True
