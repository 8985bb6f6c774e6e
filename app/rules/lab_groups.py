"""The Lab's opinion groups, as Polis finds them.

Pure: no I/O, no clock, no randomness but the seeded kind (`seed` goes to scikit-learn as its
`random_state`), so the projector and `covote lab tabulate` on the public files get the same
groups. The voter x idea matrix (agree +1, disagree -1, pass or unrated 0) of the voters with
at least `MIN_RATINGS` ratings is projected on its first two principal components; k-means (k
from 2 to `MAX_GROUPS`) splits the points, and the k with the best silhouette wins, among the
k whose every group has at least m voters. With fewer than 2m such voters, or no split that
qualifies, everyone clustered is one group. Group ids run 1, 2, ... by size (largest first),
then by the smallest pseudonym in the group.

scikit-learn is imported inside the functions: it takes most of a second to import, and the
server pays it at the first Lab count, not at every start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from app.rules.lab import LabVoter, OpinionGroup, Rating

MIN_RATINGS = 3  # a voter with fewer ratings says too little to place them in a group
MAX_GROUPS = 5  # more camps than this on a projector is noise, not a picture
KMEANS_RUNS = 10  # k-means restarts per k (best inertia kept); seeded, so deterministic

_VALUE = {Rating.AGREE: 1.0, Rating.DISAGREE: -1.0, Rating.PASS: 0.0}


def _labels(points: Any, m: int, seed: int) -> Any:
    """Cluster labels (0..k-1) of `points` (n x d), or all zeros when no split qualifies."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = points.shape[0]
    one = np.zeros(n, dtype=np.int64)
    # k-means cannot make more groups than there are distinct points (it would warn and repeat).
    distinct = len(np.unique(points.round(9), axis=0))
    best: tuple[float, Any] | None = None
    for k in range(2, min(MAX_GROUPS, n - 1, distinct) + 1):
        if k * m > n:
            break
        km = KMeans(n_clusters=k, random_state=seed, n_init=KMEANS_RUNS, algorithm="lloyd")
        labels = km.fit_predict(points)
        sizes = np.bincount(labels, minlength=k)
        if len(set(labels.tolist())) < 2 or sizes.min() < m:
            continue  # a group of fewer than m voters would single them out
        score = float(silhouette_score(points, labels))
        # Rounded so that float noise between machines cannot flip the choice; ties: fewer groups.
        score = round(score, 9)
        if best is None or score > best[0]:
            best = (score, labels)
    return one if best is None else best[1]


def opinion_groups(
    voters: Sequence[LabVoter], keys: Sequence[str], m: int, seed: int
) -> tuple[tuple[OpinionGroup, ...], dict[str, int]]:
    """The opinion groups (module doc) and each clustered voter's group id, for `voters`
    sorted by pseudonym and the idea `keys` counted (ratings of other ideas are ignored);
    `m` is the smallest group, `seed` k-means' random_state."""
    column = {k: j for j, k in enumerate(keys)}
    placed = [v for v in voters if sum(k in column for k in v.ratings) >= MIN_RATINGS]
    if not placed:
        return (), {}
    matrix = np.zeros((len(placed), len(keys)))
    for i, v in enumerate(placed):
        for k, r in v.ratings.items():
            if k in column:
                matrix[i, column[k]] = _VALUE[Rating(r)]
    if len(placed) < 2 * m or len(placed) < 3:
        labels = np.zeros(len(placed), dtype=np.int64)  # too few voters to tell camps apart
    elif np.all(matrix == matrix[0]):
        labels = np.zeros(len(placed), dtype=np.int64)  # everyone rated alike: one camp
    else:
        # scikit-learn takes most of a second to import: the server pays it at the first
        # Lab count, not at every start (covote serve, and tests that start it).
        from sklearn.decomposition import PCA
        from threadpoolctl import threadpool_limits

        components = min(2, len(placed), len(keys))
        # One thread (BLAS and OpenMP): 500 x 300 takes milliseconds, while threads on a busy
        # machine wait on each other for seconds; and one thread adds up in one order everywhere.
        with threadpool_limits(limits=1):
            points = PCA(n_components=components, svd_solver="full").fit_transform(matrix)
            labels = _labels(points, m, seed)
    members: dict[int, list[str]] = {}
    for v, label in zip(placed, labels.tolist(), strict=True):
        members.setdefault(int(label), []).append(v.pseudonym)
    order = sorted(members.values(), key=lambda names: (-len(names), min(names)))
    groups = tuple(OpinionGroup(id=i, size=len(names)) for i, names in enumerate(order, 1))
    membership = {name: i for i, names in enumerate(order, 1) for name in names}
    return groups, membership
