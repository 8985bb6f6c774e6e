"""Likely duplicates among the Lab's ideas, for the facilitator's moderation queue.

Pure and deterministic: TF-IDF over character n-grams (English and Welsh alike, accents
folded) and cosine similarity; scikit-learn is imported inside `likely_duplicates`, off the
server's start-up path.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from app.rules.lab import SCORE_PLACES

DUPLICATE_NGRAMS = (3, 5)  # character n-grams: robust to word endings and mutations (Welsh)


def likely_duplicates(
    texts: Mapping[str, str], *, threshold: float = 0.6
) -> list[tuple[str, str, float]]:
    """Pairs of ideas whose texts are alike: `(a, b, score)` with a < b and score (cosine
    similarity of TF-IDF over character n-grams, rounded to `SCORE_PLACES`) at least
    `threshold`, most similar first (then by keys). Works for English and Welsh alike: n-grams
    within words need no word list, and accents are folded (dŵr = dwr). Deterministic.
    Texts with no letters or digits are left out.
    """
    keys = sorted(k for k, t in texts.items() if any(ch.isalnum() for ch in t))
    if len(keys) < 2:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=DUPLICATE_NGRAMS,
        lowercase=True,
        strip_accents="unicode",
        sublinear_tf=True,
    )
    matrix = vectorizer.fit_transform([texts[k] for k in keys])
    similarity = (matrix @ matrix.T).toarray()  # rows are L2-normalised: this is the cosine
    pairs = []
    rows, cols = np.nonzero(np.triu(similarity >= threshold - 1e-12, k=1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        score = round(float(similarity[i, j]), SCORE_PLACES)
        if score >= threshold:
            pairs.append((keys[i], keys[j], score))
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return pairs
