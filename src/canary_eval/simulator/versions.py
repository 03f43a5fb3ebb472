"""The simulated model versions, and which cases each one gets right.

Every case has a difficulty: its rank within its intent in an order drawn from the seed. A
version gets the hardest `wrong_rate[intent]` share of each intent wrong, so a later version
that is worse on an intent keeps the mistakes of the earlier one and adds more, as vendor
updates do. What a version adds on top (refusing risky questions, hedging, verbosity) is
decided per case from a hash of (seed, version, case id). Everything is deterministic for a seed;
`noise` flips a case per request, keyed by how many times that case was asked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from canary_eval.simulator.bank import load_bank

AnswerKind = Literal["right", "wrong", "refuse"]
MODEL_ALIAS = "ledger-chat"  # what a config asks for; the server answers with a dated model


@dataclass(frozen=True)
class ModelVersion:
    name: str
    model: str  # the dated model name the server reports
    fingerprint: str
    description: str
    wrong_rate: Mapping[str, float] = field(default_factory=dict)  # per intent; "*" otherwise
    over_refusal: float = 0.0  # share of risky (answerable) questions refused
    hedge_rate: float = 0.0  # share of prose answers given a hedged, softened closing
    summary_growth: float = 0.0  # summaries grow by this share, hedged and softened
    verbosity: float = 1.0  # outputs grow to this multiple of their length
    error_rate: float = 0.0  # share of prompts answered 503, every time they are sent
    wrong_call_rate: float = 0.0  # share of tool cases given the mistaken call

    def wrong_share(self, intent: str) -> float:
        return self.wrong_rate.get(intent, self.wrong_rate.get("*", 0.0))


_STABLE_RATES = {"*": 0.12}

MODEL_VERSIONS: Mapping[str, ModelVersion] = {
    v.name: v
    for v in (
        ModelVersion(
            name="stable",
            model="ledger-chat-2024-06",
            fingerprint="fp_stable01",
            description="the quality a baseline records: ~88 % right, with realistic mistakes",
            wrong_rate=_STABLE_RATES,
        ),
        ModelVersion(
            name="drifted",
            model="ledger-chat-2024-09",
            fingerprint="fp_drift02",
            description="the silent update: hedged, ~30 % longer summaries, a few over-refusals, "
            "disputes much worse, the wrong tool or a dropped argument on half the tool cases; "
            "the average drops only a few points",
            wrong_rate={**_STABLE_RATES, "disputes": 0.38},
            over_refusal=0.4,
            hedge_rate=0.45,
            summary_growth=0.3,
            wrong_call_rate=0.5,
        ),
        ModelVersion(
            name="degraded",
            model="ledger-chat-2024-08",
            fingerprint="fp_degr03",
            description="plainly worse: about 12 points more cases wrong in every intent",
            wrong_rate={"*": 0.24},
        ),
        ModelVersion(
            name="outage",
            model="ledger-chat-2024-06",
            fingerprint="fp_stable01",
            description="a failing gateway in front of the stable model: half the prompts get 503",
            wrong_rate=_STABLE_RATES,
            error_rate=0.5,
        ),
        ModelVersion(
            name="verbose",
            model="ledger-chat-2024-11",
            fingerprint="fp_verbose04",
            description="the same answers three times longer: the cost-per-case blow-up",
            wrong_rate=_STABLE_RATES,
            verbosity=3.0,
        ),
    )
}

VERSIONS: Mapping[str, str] = {name: v.description for name, v in MODEL_VERSIONS.items()}


def unit(*parts: object) -> float:
    """A number in [0, 1) from a hash of the parts: the simulator's only source of chance."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@cache
def _ranks(seed: int) -> Mapping[str, tuple[int, int]]:
    """Per case id: its difficulty rank within its intent (0 = hardest) and the intent's size."""
    ranks: dict[str, tuple[int, int]] = {}
    for ids in load_bank().by_intent.values():
        ordered = sorted(ids, key=lambda case_id: unit(seed, "difficulty", case_id))
        for rank, case_id in enumerate(ordered):
            ranks[case_id] = (rank, len(ordered))
    return ranks


@cache
def _over_refused(seed: int, version: str) -> frozenset[str]:
    """The risky cases a version refuses: its `over_refusal` share of them, drawn by hash."""
    risky = [e.id for e in load_bank().entries.values() if e.risky]
    risky.sort(key=lambda case_id: unit(seed, version, case_id, "refuse"))
    return frozenset(risky[: round(MODEL_VERSIONS[version].over_refusal * len(risky))])


@cache
def _wrong_calls(seed: int, version: str) -> frozenset[str]:
    """The tool cases a version calls wrongly: its `wrong_call_rate` share of them, by hash."""
    tool_cases = [e.id for e in load_bank().entries.values() if e.wrong_call]
    tool_cases.sort(key=lambda case_id: unit(seed, version, case_id, "call"))
    return frozenset(tool_cases[: round(MODEL_VERSIONS[version].wrong_call_rate * len(tool_cases))])


def tool_call(case_id: str, version: str = "stable", seed: int = 0) -> Mapping[str, Any] | None:
    """The tool call `version` makes for a tool case (None for other cases)."""
    entry = load_bank().entries[case_id]
    if entry.call is None:
        return None
    return entry.wrong_call if case_id in _wrong_calls(seed, version) else entry.call


def decide(
    case_id: str, version: str = "stable", seed: int = 0, *, occurrence: int = 0, noise: float = 0.0
) -> AnswerKind:
    """Whether `version` answers the case right, wrong, or refuses it (on its n-th asking)."""
    v = MODEL_VERSIONS[version]
    entry = load_bank().entries[case_id]
    rank, size = _ranks(seed)[case_id]
    right = rank >= round(v.wrong_share(entry.intent) * size)
    if noise > 0 and unit(seed, v.name, case_id, occurrence, "noise") < noise:
        right = not right
    if right and entry.risky and case_id in _over_refused(seed, v.name):
        return "refuse"
    return "right" if right else "wrong"


def answers_correctly(case_id: str, version: str = "stable", seed: int = 0) -> bool:
    """Whether the version's answer to the case is its bank's right answer (no noise).

    A right answer may still be phrased worse (hedged, longer) by a drifted version.
    """
    return decide(case_id, version, seed) == "right"


def version_for_model(requested: str | None, current: str) -> str:
    """The version that serves a request: a pinned dated model name, else the current one."""
    if requested and requested != MODEL_VERSIONS[current].model:
        for v in MODEL_VERSIONS.values():
            if v.model == requested:
                return v.name
    return current
