"""Vector similarity: `tfidf_cosine`, and `embedding` against a real embeddings endpoint."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from canary_eval.errors import AuthError, ConfigError
from canary_eval.scorers import ScorerContext
from canary_eval.scorers import similarity as similarity_module
from canary_eval.scorers.similarity import rescale, tfidf_similarities

from .conftest import Endpoint, build, score

# tfidf_cosine


def test_tfidf_identical_text_scores_one_and_disjoint_text_zero() -> None:
    assert score("tfidf_cosine", "Refunds take 3 days", "refunds take 3 days").value == (
        pytest.approx(1.0)
    )
    assert score("tfidf_cosine", "hello world", "refund policy").value == 0.0


def test_tfidf_related_text_scores_in_between_and_passes_at_threshold() -> None:
    got = score("tfidf_cosine", "The cat sat on the mat", "A cat sat on a mat", threshold=0.3)
    assert 0.3 < got.value < 1.0
    assert got.passed


def test_tfidf_takes_the_best_of_several_references() -> None:
    refs = ["completely unrelated words", "cat sat on the mat"]
    got = score("tfidf_cosine", "the cat sat on the mat", case_fields={"references": refs})
    assert got.value == pytest.approx(
        max(tfidf_similarities("the cat sat on the mat", refs, "word"))
    )
    assert got.value > 0.9


def test_tfidf_empty_or_wordless_output_scores_zero() -> None:
    assert score("tfidf_cosine", "", "reference").value == 0.0
    assert score("tfidf_cosine", "?!", "reference").value == 0.0
    assert score("tfidf_cosine", "text", "!!!").value == 0.0


def test_tfidf_character_ngrams_tolerate_spelling_and_handle_unicode() -> None:
    word = score("tfidf_cosine", "colour organisation", "color organization").value
    chars = score("tfidf_cosine", "colour organisation", "color organization", analyzer="char_wb")
    assert word == 0.0
    assert chars.value > 0.4
    assert score("tfidf_cosine", "東京は日本の首都", "東京は日本の首都").value == pytest.approx(1.0)


# embedding

VECTORS = {
    "A cat sat on the mat.": [1.0, 0.0, 0.0],
    "The kitten sat on the rug.": [0.9, 0.3, 0.0],
    "Stocks fell sharply today.": [0.2, 0.0, 0.98],
}


def embeddings(path: str, body: dict[str, Any]) -> tuple[int, Any]:
    assert path.endswith("/embeddings")
    data = [{"index": i, "embedding": VECTORS[t]} for i, t in enumerate(body["input"])]
    return 200, {"object": "list", "data": list(reversed(data)), "model": body["model"]}


@pytest.fixture(autouse=True)
def _empty_vector_cache() -> Iterator[None]:
    similarity_module._VECTORS.clear()
    yield
    similarity_module._VECTORS.clear()


def embed_params(endpoint: Endpoint, **extra: Any) -> dict[str, Any]:
    return {"base_url": endpoint.url, "model": "embed-1", **extra}


def test_embedding_is_the_rescaled_cosine(endpoint: Endpoint) -> None:
    endpoint.reply = embeddings
    params = embed_params(endpoint)
    cos = 0.9 / math.sqrt(0.9**2 + 0.3**2)
    got = score("embedding", "The kitten sat on the rug.", "A cat sat on the mat.", **params)
    assert got.value == pytest.approx((cos - 0.2) / 0.8)
    assert got.passed
    assert f"{cos:.3f}" in got.explanation


def test_unrelated_text_scores_near_zero_after_rescaling(endpoint: Endpoint) -> None:
    endpoint.reply = embeddings
    got = score(
        "embedding", "Stocks fell sharply today.", "A cat sat on the mat.", **embed_params(endpoint)
    )
    assert got.value == pytest.approx(0.0, abs=0.01)
    assert rescale(0.2, 0.2) == 0.0
    assert rescale(1.0, 0.2) == 1.0
    assert rescale(-0.5, 0.2) == 0.0


def test_vectors_are_cached_so_a_text_is_embedded_once(endpoint: Endpoint) -> None:
    endpoint.reply = embeddings
    params = embed_params(endpoint)
    score("embedding", "The kitten sat on the rug.", "A cat sat on the mat.", **params)
    score("embedding", "Stocks fell sharply today.", "A cat sat on the mat.", **params)
    inputs = [body["input"] for _, body, _ in endpoint.requests]
    assert inputs == [
        ["The kitten sat on the rug.", "A cat sat on the mat."],
        ["Stocks fell sharply today."],
    ]


def test_the_api_key_is_sent_from_the_named_variable(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint.reply = embeddings
    monkeypatch.setenv("EMBED_KEY", "sk-secret")
    score(
        "embedding",
        "A cat sat on the mat.",
        "A cat sat on the mat.",
        **embed_params(endpoint, api_key_env="EMBED_KEY"),
    )
    assert endpoint.requests[0][2]["Authorization"] == "Bearer sk-secret"


def test_a_failing_endpoint_gives_an_invalid_score(endpoint: Endpoint) -> None:
    endpoint.reply = lambda path, body: (500, {"error": "down"})
    got = score("embedding", "A cat sat on the mat.", "x", **embed_params(endpoint))
    assert got.invalid
    assert "HTTP 500" in got.explanation


def test_a_malformed_answer_gives_an_invalid_score(endpoint: Endpoint) -> None:
    endpoint.reply = lambda path, body: (200, {"data": [{"vector": [1]}]})
    got = score("embedding", "A cat sat on the mat.", "x", **embed_params(endpoint))
    assert got.invalid
    assert "embeddings answer" in got.explanation


def test_empty_output_scores_zero_without_a_call(endpoint: Endpoint) -> None:
    got = score("embedding", "  ", "A cat sat on the mat.", **embed_params(endpoint))
    assert (got.value, got.invalid) == (0.0, False)
    assert endpoint.requests == []


def test_refused_credentials_stop_the_run(endpoint: Endpoint) -> None:
    endpoint.reply = lambda path, body: (401, {"error": "bad key"})
    with pytest.raises(AuthError):
        score("embedding", "A cat sat on the mat.", "x", **embed_params(endpoint))


def test_embedding_uses_the_suite_judge_endpoint_when_not_given_one(endpoint: Endpoint) -> None:
    endpoint.reply = embeddings
    ctx = ScorerContext(judge={"base_url": endpoint.url, "model": "embed-1"})
    assert score("embedding", "A cat sat on the mat.", "A cat sat on the mat.", ctx=ctx).passed


def test_embedding_without_an_endpoint_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"scorers\[0\]\.base_url"):
        build("embedding", {"model": "m"})
    with pytest.raises(ConfigError, match=r"scorers\[0\]\.floor"):
        build("embedding", {"base_url": "http://x", "model": "m", "floor": 1})


def test_offline_embedding_uses_only_cached_vectors(endpoint: Endpoint) -> None:
    endpoint.reply = embeddings
    params = embed_params(endpoint)
    text = "A cat sat on the mat."
    score("embedding", text, text, **params)
    offline = ScorerContext(offline=True)
    assert score("embedding", text, text, ctx=offline, **params).passed
    missed = score("embedding", "Stocks fell sharply today.", text, ctx=offline, **params)
    assert missed.invalid
    assert "offline" in missed.explanation
    assert len(endpoint.requests) == 1
