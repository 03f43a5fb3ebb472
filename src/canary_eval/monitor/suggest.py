"""Closing the coverage loop: production inputs no canary case covers, proposed as new cases.

From the current window's sample, the inputs whose nearest canary case (TF-IDF cosine, as the
coverage figure measures it) is below the floor are masked (e-mail addresses, card numbers and
phone numbers become placeholders), de-duplicated (case and digits folded), clustered by topic
(k-means on TF-IDF) and drawn stratified over (topic, intent) groups in proportion to their
size, at least one each. The result is an eval-set YAML without references: ready to label.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from canary_eval.monitor.intents import normalise

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d ().-]{8,}\d(?!\w)")


@dataclass(frozen=True)
class Suggestion:
    id: str
    intent: str
    input: str
    topic: tuple[str, ...]  # the terms that describe its cluster
    seen: int  # sampled inputs it stands for (its duplicates included)


def mask(text: str) -> str:
    """PII-like strings replaced by placeholders: <email>, <card>, <phone>."""
    text = _EMAIL.sub("<email>", text)
    text = _CARD.sub("<card>", text)
    return _PHONE.sub("<phone>", text)


def suggest(
    texts: Sequence[str],
    intents: Sequence[str],
    canary_texts: Sequence[str],
    *,
    floor: float,
    limit: int = 50,
    seed: int = 0,
) -> list[Suggestion]:
    """Up to `limit` uncovered inputs, stratified over topic clusters and intents."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts or not canary_texts:
        return []
    texts = [mask(t) for t in texts]  # before anything else sees them, topic terms included
    vectorizer = TfidfVectorizer(preprocessor=normalise, sublinear_tf=True, stop_words="english")
    try:
        vectorizer.fit([*canary_texts, *texts])
    except ValueError:
        return []
    matrix = vectorizer.transform(texts)
    best = np.asarray((matrix @ vectorizer.transform(canary_texts).T).max(axis=1).todense()).ravel()
    unique: dict[str, list[int]] = {}
    for i in map(int, np.flatnonzero(best < floor)):
        unique.setdefault(normalise(texts[i]).strip(), []).append(i)
    if not unique:
        return []
    firsts = [rows[0] for rows in unique.values()]
    features = matrix[firsts]
    k = max(1, min(8, len(firsts) // 5))
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(features)
    vocabulary = vectorizer.get_feature_names_out()
    topics = [
        tuple(str(vocabulary[j]) for j in np.argsort(-centre)[:4] if centre[j] > 0)
        for centre in model.cluster_centers_
    ]
    groups: dict[tuple[int, str], list[int]] = {}
    for position, label in enumerate(model.labels_):
        groups.setdefault((int(label), intents[firsts[position]]), []).append(position)
    rng = np.random.default_rng(seed)
    total = len(firsts)
    out: list[Suggestion] = []
    for (label, intent), members in sorted(groups.items()):
        want = max(1, math.floor(limit * len(members) / total))
        for position in sorted(rng.choice(members, size=min(want, len(members)), replace=False)):
            rows = list(unique.values())[position]
            out.append(
                Suggestion(
                    f"suggested-{label}-{len(out) + 1:03d}",
                    intent,
                    texts[rows[0]],
                    topics[label],
                    len(rows),
                )
            )
    return out[:limit]


def evalset_document(suggestions: Sequence[Suggestion], source: str) -> dict[str, Any]:
    """The eval-set YAML document of the suggestions, references left for a person to write."""
    return {
        "cases": [
            {
                "id": s.id,
                "intent": s.intent,
                "input": s.input,
                "metadata": {
                    "source": source,
                    "topic": list(s.topic),
                    "seen_in_sample": s.seen,
                    "needs": "reference",
                },
            }
            for s in suggestions
        ]
    }
