"""Cross-modal retrieval metrics over paired embeddings (numpy only, no torch).

Row ``i`` of ``a`` and row ``i`` of ``b`` are a pair (an image and its caption). Each
``a`` row is a query against every ``b`` row (``a -> b``) and the other way round
(``b -> a``); candidates are ranked by cosine similarity. The **rank** of a query is the
1-based position of its true partner. Ties count against the query: the rank is 1 plus the
number of wrong candidates that score *at least* as high as the true one, so a collapsed
model whose embeddings are all equal gets the worst rank (``N``), never a perfect score.

With ``ids`` (one id per pair, e.g. the case an image belongs to), every candidate with
the query's id counts as correct and the rank is that of the best-ranked correct one.

Reported per direction: recall at k (``R@k``, the fraction of queries whose rank is
``<= k``), median and mean rank. Random embeddings give ``R@k = k / N`` and a mean rank of
``(N + 1) / 2`` (the ``chance`` row of :meth:`RetrievalMetrics.to_frame`).

Example:
    >>> import numpy as np
    >>> from medmodal.metrics.retrieval import retrieval_metrics_from_similarity
    >>> sim = np.array([[0.9, 0.1, 0.0],
    ...                 [0.8, 0.2, 0.1],
    ...                 [0.0, 0.3, 0.7]])
    >>> m = retrieval_metrics_from_similarity(sim, ks=(1, 2))
    >>> m.ranks_a_to_b.tolist(), m.ranks_b_to_a.tolist()
    ([1, 2, 1], [1, 2, 1])
    >>> m.recall(1), m.recall(2), m.mean_rank("b_to_a")
    (0.6666666666666666, 1.0, 1.3333333333333333)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, BoolArray, FloatArray, IntArray

Direction = Literal["a_to_b", "b_to_a"]
#: Default cut-offs for recall at k.
DEFAULT_KS: tuple[int, ...] = (1, 5, 10)
_BLOCK = 1024  # query rows ranked at a time (bounds memory at BLOCK x N)


@dataclass(frozen=True, eq=False)
class RetrievalMetrics:
    """Ranks of the true partner in both directions, and the metrics derived from them.

    Attributes:
        ranks_a_to_b: ``(N,)`` 1-based rank of the true ``b`` for each ``a`` query.
        ranks_b_to_a: ``(N,)`` 1-based rank of the true ``a`` for each ``b`` query.
        ks: cut-offs reported by :meth:`to_dict` and :meth:`to_frame`.
        names: display names of the two modalities (e.g. ``("image", "text")``); used in
            :meth:`to_frame` only: :meth:`to_dict` keys are always ``a_to_b_*``/``b_to_a_*``.
        n_candidates: number of candidates each query was ranked against.
    """

    ranks_a_to_b: IntArray
    ranks_b_to_a: IntArray
    ks: tuple[int, ...] = DEFAULT_KS
    names: tuple[str, str] = ("a", "b")
    n_candidates: int = 0

    @property
    def n(self) -> int:
        """Number of query pairs."""
        return int(self.ranks_a_to_b.size)

    def ranks(self, direction: Direction = "a_to_b") -> IntArray:
        """The rank array of one direction (``"a_to_b"`` or ``"b_to_a"``)."""
        if direction == "a_to_b":
            return self.ranks_a_to_b
        if direction == "b_to_a":
            return self.ranks_b_to_a
        raise InvalidParameterError(
            f"RetrievalMetrics: direction={direction!r}; use 'a_to_b' or 'b_to_a'"
        )

    def recall(self, k: int, direction: Direction = "a_to_b") -> float:
        """Fraction of queries whose true partner ranks within the top ``k``."""
        if k < 1:
            raise InvalidParameterError(f"RetrievalMetrics.recall: k={k}; it must be >= 1")
        return float(np.mean(self.ranks(direction) <= k))

    def median_rank(self, direction: Direction = "a_to_b") -> float:
        """Median 1-based rank of the true partner."""
        return float(np.median(self.ranks(direction)))

    def mean_rank(self, direction: Direction = "a_to_b") -> float:
        """Mean 1-based rank of the true partner."""
        return float(np.mean(self.ranks(direction)))

    def chance_recall(self, k: int) -> float:
        """Expected recall at ``k`` of random embeddings (``k / candidates``)."""
        return min(1.0, k / max(self.n_candidates or self.n, 1))

    def to_dict(self) -> dict[str, float]:
        """Flat ``{"a_to_b_R@1": ..., "b_to_a_median_rank": ..., "mean_R@1": ..., "n": ...}``.

        Keys do not depend on :attr:`names`, so training code can select a metric by key.
        """
        out: dict[str, float] = {}
        directions: tuple[Direction, Direction] = ("a_to_b", "b_to_a")
        for d in directions:
            for k in self.ks:
                out[f"{d}_R@{k}"] = self.recall(k, d)
            out[f"{d}_median_rank"] = self.median_rank(d)
            out[f"{d}_mean_rank"] = self.mean_rank(d)
        for k in self.ks:
            out[f"mean_R@{k}"] = (out[f"a_to_b_R@{k}"] + out[f"b_to_a_R@{k}"]) / 2
        out["n"] = float(self.n)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per direction plus the ``chance`` row; columns R@k, median/mean rank."""
        a, b = self.names
        rows: dict[str, dict[str, float]] = {}
        directions: tuple[tuple[Direction, str], ...] = (
            ("a_to_b", f"{a}→{b}"),
            ("b_to_a", f"{b}→{a}"),
        )
        for d, label in directions:
            row = {f"R@{k}": self.recall(k, d) for k in self.ks}
            row |= {"median_rank": self.median_rank(d), "mean_rank": self.mean_rank(d)}
            rows[label] = row
        middle = ((self.n_candidates or self.n) + 1) / 2
        rows["chance"] = {f"R@{k}": self.chance_recall(k) for k in self.ks} | {
            "median_rank": middle,
            "mean_rank": middle,
        }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "direction"
        return frame


def _check_ks(ks: Sequence[int], where: str) -> tuple[int, ...]:
    out = tuple(int(k) for k in ks)
    if not out or any(k < 1 for k in out):
        raise InvalidParameterError(f"{where}: ks={tuple(ks)!r}; give one or more integers >= 1")
    return out


def _check_ids(ids: ArrayLike | None, n: int, where: str) -> np.ndarray | None:
    if ids is None:
        return None
    arr = np.asarray(ids).ravel()
    if arr.size != n:
        raise InvalidParameterError(f"{where}: {arr.size} ids for {n} pairs; give one id per pair")
    return arr


def block_ranks(similarity: FloatArray, positives: BoolArray) -> IntArray:
    """1-based rank of the best correct candidate of each query row (ties count against).

    Args:
        similarity: ``(q, N)`` scores of ``q`` queries against ``N`` candidates.
        positives: ``(q, N)`` mask of the correct candidates (at least one per row).

    Example:
        >>> sim = np.array([[0.5, 0.5, 0.1]])
        >>> block_ranks(sim, np.array([[True, False, False]])).tolist()
        [2]
    """
    best = np.where(positives, similarity, -np.inf).max(axis=1, keepdims=True)  # (q, 1)
    beaten = (similarity >= best) & ~positives  # (q, N)
    return (1 + beaten.sum(axis=1)).astype(np.int64)


def _ranks(sim_rows: FloatArray, ids: np.ndarray | None, offset: int) -> IntArray:
    q, n = sim_rows.shape
    rows = np.arange(offset, offset + q)
    if ids is None:
        positives = np.zeros((q, n), dtype=bool)
        positives[np.arange(q), rows] = True
    else:
        positives = ids[rows][:, None] == ids[None, :]
    return block_ranks(sim_rows, positives)


def retrieval_ranks(similarity: ArrayLike, *, ids: ArrayLike | None = None) -> IntArray:
    """1-based rank of the true candidate for each query row of a square similarity matrix.

    Row ``i`` is query ``i``; its true candidate is column ``i`` (or, with ``ids``, every
    column with the same id). Ties count against the query.

    Example:
        >>> retrieval_ranks([[0.2, 0.9], [0.1, 0.3]]).tolist()
        [2, 1]
    """
    sim = _check_similarity(similarity, "retrieval_ranks")
    id_arr = _check_ids(ids, sim.shape[0], "retrieval_ranks")
    parts = [
        _ranks(sim[start : start + _BLOCK], id_arr, start)
        for start in range(0, sim.shape[0], _BLOCK)
    ]
    return np.concatenate(parts)


def _check_similarity(similarity: ArrayLike, where: str) -> FloatArray:
    sim = np.asarray(similarity, dtype=np.float64)
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1] or sim.shape[0] == 0:
        raise InvalidParameterError(
            f"{where}: similarity has shape {sim.shape}; expected a square (N, N) matrix, N >= 1"
        )
    if not np.isfinite(sim).all():
        row = int(np.argwhere(~np.isfinite(sim))[0][0])
        raise InvalidParameterError(f"{where}: similarity row {row} is not finite (NaN or inf)")
    return sim


def retrieval_metrics_from_similarity(
    similarity: ArrayLike,
    *,
    ids: ArrayLike | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    names: tuple[str, str] = ("a", "b"),
) -> RetrievalMetrics:
    """Retrieval metrics from an ``(N, N)`` similarity matrix (rows: ``a``, columns: ``b``).

    Args:
        similarity: ``similarity[i, j]`` scores ``a_i`` against ``b_j``; pairs on the diagonal.
        ids: optional id per pair; candidates sharing the query's id are correct too.
        ks: recall cut-offs.
        names: display names of the two modalities.
    """
    where = "retrieval_metrics_from_similarity"
    sim = _check_similarity(similarity, where)
    ks_t = _check_ks(ks, where)
    id_arr = _check_ids(ids, sim.shape[0], where)
    return RetrievalMetrics(
        ranks_a_to_b=retrieval_ranks(sim, ids=id_arr),
        ranks_b_to_a=retrieval_ranks(sim.T, ids=id_arr),
        ks=ks_t,
        names=names,
        n_candidates=sim.shape[0],
    )


def _unit_rows(x: ArrayLike, name: str, where: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidParameterError(
            f"{where}: {name} has shape {arr.shape}; expected (N, D) embeddings with N, D >= 1"
        )
    norms = np.linalg.norm(arr, axis=1)
    bad = ~np.isfinite(norms) | (norms == 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            f"{where}: row {row} of {name} has L2 norm {norms[row]}; "
            "embeddings must be finite and non-zero"
        )
    return arr / norms[:, None]


def retrieval_metrics(
    a: ArrayLike,
    b: ArrayLike,
    *,
    ids: ArrayLike | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    names: tuple[str, str] = ("a", "b"),
) -> RetrievalMetrics:
    """Retrieval metrics of paired embeddings ``a[i] <-> b[i]`` by cosine similarity.

    Rows are L2-normalised here (so any non-zero embeddings work); the similarity is
    computed ``1024`` queries at a time, so memory stays at ``1024 x N``.

    Args:
        a: ``(N, D)`` embeddings of the first modality.
        b: ``(N, D)`` embeddings of the second modality, paired row by row with ``a``.
        ids: optional id per pair; candidates sharing the query's id are correct too.
        ks: recall cut-offs.
        names: display names of the two modalities.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=(50, 8))
        >>> m = retrieval_metrics(a, a + 0.01 * rng.normal(size=a.shape))
        >>> m.recall(1), m.recall(1, "b_to_a")
        (1.0, 1.0)
    """
    where = "retrieval_metrics"
    ua, ub = _unit_rows(a, "a", where), _unit_rows(b, "b", where)
    if ua.shape != ub.shape:
        raise InvalidParameterError(
            f"{where}: a has shape {ua.shape} but b has {ub.shape}; they must be paired (N, D)"
        )
    ks_t = _check_ks(ks, where)
    id_arr = _check_ids(ids, ua.shape[0], where)
    directions = []
    for q, c in ((ua, ub), (ub, ua)):
        parts = [_ranks(q[s : s + _BLOCK] @ c.T, id_arr, s) for s in range(0, q.shape[0], _BLOCK)]
        directions.append(np.concatenate(parts))
    return RetrievalMetrics(directions[0], directions[1], ks_t, names, ua.shape[0])


__all__ = [
    "DEFAULT_KS",
    "RetrievalMetrics",
    "block_ranks",
    "retrieval_metrics",
    "retrieval_metrics_from_similarity",
    "retrieval_ranks",
]
