"""Tokens as the simulator counts them, and its deterministic embeddings.

A token is a run of word characters or one punctuation mark: close enough to a BPE tokenizer
for English support text (within ~20 %) and, more important, consistent, so usage and cost
figures move exactly with output length.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"[a-z0-9]+")
EMBEDDING_DIM = 256
MESSAGE_OVERHEAD = 4  # tokens a chat message costs beyond its content, as OpenAI counts them


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def truncate_tokens(text: str, limit: int) -> str:
    """The text cut after its first `limit` tokens (all of it when it is shorter)."""
    if limit <= 0:
        return ""
    for i, match in enumerate(_TOKEN.finditer(text), start=1):
        if i == limit:
            return text[: match.end()]
    return text


def prompt_tokens(contents: list[str]) -> int:
    """Tokens of a chat prompt: every message's content plus the per-message overhead."""
    return sum(count_tokens(c) + MESSAGE_OVERHEAD for c in contents) + 3


def embed(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """A unit vector from hashed words and word pairs: texts sharing words point the same way."""
    words = _WORD.findall(text.lower())
    features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    vector = [0.0] * dim
    for feature in features:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "big") % dim
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        return vector
    return [round(v / norm, 6) for v in vector]
