"""Cross-modal retrieval metrics of torch embeddings (R@k, median and mean rank).

The same metrics and tie rule as :mod:`medmodal.metrics.retrieval` (the numpy version);
similarities are computed in torch, ``1024`` queries at a time, on the embeddings' device.

Example:
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> img = torch.randn(20, 8, generator=g)
    >>> m = retrieval_metrics(img, img + 0.01 * torch.randn(20, 8, generator=g))
    >>> m.to_dict()["a_to_b_R@1"], m.to_dict()["b_to_a_median_rank"]
    (1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from medmodal.align._checks import check_pair
from medmodal.align.similarity import normalize_rows
from medmodal.errors import InvalidParameterError
from medmodal.metrics.retrieval import DEFAULT_KS, RetrievalMetrics, block_ranks
from medmodal.types import ArrayLike, IntArray

_BLOCK = 1024


def _direction_ranks(queries: Tensor, candidates: Tensor, ids: Tensor | None) -> IntArray:
    n = queries.shape[0]
    parts = []
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        sim = queries[start:stop] @ candidates.T  # (q, N)
        if ids is None:
            positives = torch.zeros_like(sim, dtype=torch.bool)
            positives[torch.arange(stop - start), torch.arange(start, stop)] = True
        else:
            positives = ids[start:stop, None] == ids[None, :]  # (q, N)
        parts.append(block_ranks(sim.double().cpu().numpy(), positives.cpu().numpy()))
    return np.concatenate(parts)


def _ids_tensor(ids: ArrayLike | Tensor | None, n: int, device: torch.device) -> Tensor | None:
    if ids is None:
        return None
    arr = ids.cpu().numpy() if isinstance(ids, Tensor) else np.asarray(ids)
    arr = arr.ravel()
    if arr.size != n:
        raise InvalidParameterError(
            f"retrieval_metrics: {arr.size} ids for {n} pairs; give one id per pair"
        )
    _, codes = np.unique(arr, return_inverse=True)
    return torch.as_tensor(codes.ravel(), device=device)


@torch.no_grad()
def retrieval_metrics(
    a: Tensor,
    b: Tensor,
    *,
    ids: ArrayLike | Tensor | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    names: tuple[str, str] = ("a", "b"),
) -> RetrievalMetrics:
    """Retrieval metrics of paired embeddings ``a[i] <-> b[i]`` by cosine similarity.

    Args:
        a: ``(N, D)`` embeddings (normalised here; any non-zero rows work).
        b: ``(N, D)`` embeddings paired row by row with ``a``.
        ids: optional id per pair (e.g. the case); candidates sharing the query's id count
            as correct (rank of the best-ranked one).
        ks: recall cut-offs (``R@1/5/10`` by default).
        names: display names, e.g. ``("image", "text")``, used by ``to_frame``.

    Returns:
        :class:`~medmodal.metrics.retrieval.RetrievalMetrics` with both directions.

    Raises:
        InvalidParameterError: shapes differ, a row is zero/non-finite, bad ``ks``/``ids``.
    """
    where = "retrieval_metrics"
    ta, tb = check_pair(a, b, where)
    ua, ub = normalize_rows(ta.float(), "a", where), normalize_rows(tb.float(), "b", where)
    id_t = _ids_tensor(ids, ua.shape[0], ua.device)
    ks_t = tuple(int(k) for k in ks)
    if not ks_t or min(ks_t) < 1:
        raise InvalidParameterError(f"{where}: ks={tuple(ks)!r}; give integers >= 1")
    return RetrievalMetrics(
        ranks_a_to_b=_direction_ranks(ua, ub, id_t),
        ranks_b_to_a=_direction_ranks(ub, ua, id_t),
        ks=ks_t,
        names=names,
        n_candidates=ua.shape[0],
    )


__all__ = ["RetrievalMetrics", "retrieval_metrics"]
