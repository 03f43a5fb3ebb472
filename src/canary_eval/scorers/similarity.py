"""Vector similarity with a reference: `tfidf_cosine` (scikit-learn) and `embedding`.

`tfidf_cosine` fits a TF-IDF model on the output and its references alone, so words they all
share weigh less than words only some of them use; tf-idf weights are never negative, so the
cosine is already in [0, 1].

`embedding` asks an OpenAI-compatible `/embeddings` endpoint for vectors and compares them by
cosine. Embedding models put even unrelated texts at a positive cosine (about 0.1-0.3 for current
models, higher for older ones), so the cosine is rescaled: `(cos - floor) / (1 - floor)`, clipped
to [0, 1], with `floor` (default 0.2) the cosine unrelated text gets from your model. Vectors are
cached in memory by endpoint, model and text, so a reference is embedded once per process.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal

from canary_eval.models import Score
from canary_eval.scorers.endpoint import ENDPOINT_PARAMS, Endpoint, EndpointError, endpoint_from
from canary_eval.scorers.registry import ScoreFn, ScoreInput, ScorerContext, scorer
from canary_eval.scorers.text import TEXT_OR_LIST, no_reference, targets
from canary_eval.scorers.tokens import words

_WORD = re.compile(r"\w", re.UNICODE)
THRESHOLD = {"type": "number", "minimum": 0, "maximum": 1}
Vector = tuple[float, ...]


def tfidf_similarities(output: str, references: Sequence[str], analyzer: str) -> list[float]:
    """Cosine of the output's TF-IDF vector with each reference's."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not _WORD.search(output):
        return [0.0 for _ in references]
    if analyzer == "char_wb":
        vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    else:
        # Unicode words, CJK characters one by one (`tokens.words`): a Chinese answer has no
        # spaces, and scikit-learn's default pattern would make it one token.
        vectoriser = TfidfVectorizer(
            tokenizer=words, token_pattern=None, lowercase=False, sublinear_tf=True
        )
    try:
        matrix = vectoriser.fit_transform([output, *references])
    except ValueError:  # empty vocabulary: nothing comparable in any text
        return [0.0 for _ in references]
    sims = (matrix[1:] @ matrix[0].T).toarray().ravel()  # rows are L2-normalised
    return [min(1.0, max(0.0, float(s))) for s in sims]


@scorer(
    "tfidf_cosine",
    params={
        "value": TEXT_OR_LIST,
        "threshold": THRESHOLD,
        "analyzer": {"enum": ["word", "char_wb"]},
    },
)
def tfidf_cosine(
    value: str | list[str] | None = None,
    threshold: float = 0.5,
    analyzer: Literal["word", "char_wb"] = "word",
) -> ScoreFn:
    """TF-IDF cosine with the best reference; `char_wb` uses character 3-5-grams."""

    def score(item: ScoreInput) -> Score:
        refs = targets(value, item)
        if not refs:
            return no_reference()
        sims = tfidf_similarities(item.output, refs, analyzer)
        best = max(sims)
        return Score(best, best >= threshold, f"tf-idf cosine {best:.2f}, pass at {threshold:g}")

    return score


_VECTORS: OrderedDict[tuple[str, str, str], Vector] = OrderedDict()
VECTOR_CACHE_SIZE = 20_000


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def rescale(cos: float, floor: float) -> float:
    """Map the cosine of unrelated text (`floor`) to 0 and identical text to 1."""
    return min(1.0, max(0.0, (cos - floor) / (1.0 - floor)))


async def embed(endpoint: Endpoint, texts: Sequence[str], *, offline: bool = False) -> list[Vector]:
    """Vectors for `texts`, from the cache where possible, in one request for the rest."""
    keys = [(endpoint.base_url, endpoint.model, t) for t in texts]
    missing = list(dict.fromkeys(k[2] for k in keys if k not in _VECTORS))
    if missing and offline:
        raise EndpointError("not cached (offline)")
    if missing:
        body = await endpoint.post("embeddings", {"model": endpoint.model, "input": missing})
        for text, vector in zip(missing, _parse_embeddings(body, len(missing)), strict=True):
            _VECTORS[(endpoint.base_url, endpoint.model, text)] = vector
            while len(_VECTORS) > VECTOR_CACHE_SIZE:
                _VECTORS.popitem(last=False)
    return [_VECTORS[k] for k in keys]


def _parse_embeddings(body: Any, count: int) -> list[Vector]:
    try:
        data = sorted(body["data"], key=lambda d: d.get("index", 0))
        vectors = [tuple(float(x) for x in d["embedding"]) for d in data]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EndpointError("embeddings answer is not {data: [{embedding: [...]}]}") from exc
    if len(vectors) != count or any(len(v) != len(vectors[0]) or not v for v in vectors):
        raise EndpointError(f"expected {count} embeddings of one size, got {len(vectors)}")
    return vectors


@scorer(
    "embedding",
    params={
        **ENDPOINT_PARAMS,
        "floor": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        "threshold": THRESHOLD,
        "value": TEXT_OR_LIST,
    },
)
def embedding(
    ctx: ScorerContext,
    floor: float = 0.2,
    threshold: float = 0.5,
    value: str | list[str] | None = None,
    **endpoint_params: Any,
) -> ScoreFn:
    """Rescaled embedding cosine with the best reference.

    Without `base_url` and `model`, the suite-level judge endpoint is used.
    """
    endpoint = endpoint_from(endpoint_params, ctx.judge)

    async def score(item: ScoreInput) -> Score:
        refs = targets(value, item)
        if not refs:
            return no_reference()
        if not item.output.strip():
            return Score(0.0, False, "empty output")
        try:
            vectors = await embed(endpoint, [item.output, *refs], offline=ctx.offline)
        except EndpointError as exc:
            return Score(0.0, False, f"embedding failed: {exc}", invalid=True)
        cosines = [cosine(vectors[0], v) for v in vectors[1:]]
        best = max(cosines)
        got = rescale(best, floor)
        why = f"embedding cosine {best:.3f}, rescaled {got:.2f} (floor {floor:g})"
        return Score(got, got >= threshold, f"{why}, pass at {threshold:g}")

    return score
