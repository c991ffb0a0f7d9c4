"""Cosine similarity between two sets of embeddings.

Example:
    >>> import torch
    >>> a = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    >>> [[round(v, 2) for v in row] for row in similarity_matrix(a, a).tolist()]
    [[1.0, 0.6], [0.6, 1.0]]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

from medmodal.align._checks import check_embeddings
from medmodal.errors import InvalidParameterError


def normalize_rows(x: Tensor, name: str, where: str) -> Tensor:
    """``x`` with unit-norm rows; zero or non-finite rows raise, naming the row."""
    norms = torch.linalg.vector_norm(x.detach(), dim=1)  # (N,)
    bad = ~torch.isfinite(norms) | (norms == 0)
    if bool(bad.any()):
        row = int(torch.nonzero(bad)[0, 0])
        raise InvalidParameterError(
            f"{where}: row {row} of {name} has L2 norm {float(norms[row])}; "
            "embeddings must be finite and non-zero"
        )
    return F.normalize(x, dim=-1)


def similarity_matrix(a: Tensor, b: Tensor, *, normalize: bool = True) -> Tensor:
    """``(N, M)`` similarity of every row of ``a`` with every row of ``b``.

    Args:
        a: ``(N, D)`` embeddings.
        b: ``(M, D)`` embeddings (``M`` may differ from ``N``; ``D`` must match).
        normalize: L2-normalise the rows first (cosine similarity, in ``[-1, 1]``);
            ``False`` gives raw dot products.

    Raises:
        InvalidParameterError: not 2-D tensors, dimensions differ, or (with ``normalize``)
            a row is zero or not finite.
    """
    where = "similarity_matrix"
    ta, tb = check_embeddings(a, "a", where), check_embeddings(b, "b", where)
    if ta.shape[1] != tb.shape[1]:
        raise InvalidParameterError(
            f"{where}: a has dimension {ta.shape[1]} but b has {tb.shape[1]}; they must match"
        )
    common = torch.promote_types(ta.dtype, tb.dtype)
    ta, tb = ta.to(common), tb.to(common)
    if normalize:
        ta, tb = normalize_rows(ta, "a", where), normalize_rows(tb, "b", where)
    return ta @ tb.T  # (N, M)


__all__ = ["normalize_rows", "similarity_matrix"]
