"""All-gather embeddings across processes with gradients (kept apart from the loss math).

In data-parallel contrastive training each process embeds its own slice of the global
batch; a global loss needs every process's embeddings as negatives. ``gather_features``
concatenates the slices of all ranks in rank order, and its backward hands each rank the
gradient of its own rows **summed over ranks** (an all-reduce, which every backend,
gloo included, supports; slices may differ in length).

With every rank computing the same global loss on the gathered batch, that sum is
``world_size * dL/dx_local``; DistributedDataParallel then *averages* parameter gradients
over ranks, which divides it back: parameters get exactly the gradient of the
single-process loss on the concatenated batch (shown by ``tests/align/test_distributed.py``
with 2 gloo processes launched by ``torch.distributed.run``).

Without an initialised process group (or with one process) it is the identity.

Example:
    >>> import torch
    >>> x = torch.randn(3, 4, requires_grad=True)
    >>> gather_features(x) is x
    True
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from medmodal.align._checks import check_embeddings
from medmodal.errors import InvalidParameterError


def is_distributed() -> bool:
    """Whether a torch.distributed process group with more than one rank is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _gather_sizes(n: int, device: torch.device) -> list[int]:
    mine = torch.tensor([n], dtype=torch.long, device=device)
    sizes = [torch.zeros_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, mine)
    return [int(s) for s in sizes]


class _AllGather(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        sizes = _gather_sizes(x.shape[0], x.device)
        longest = max(sizes)
        padded = x.new_zeros((longest, *x.shape[1:]))  # (max n, D)
        padded[: x.shape[0]] = x
        parts = [torch.empty_like(padded) for _ in sizes]
        dist.all_gather(parts, padded.contiguous())
        rank = dist.get_rank()
        ctx.start, ctx.stop = sum(sizes[:rank]), sum(sizes[: rank + 1])
        return torch.cat([p[:s] for p, s in zip(parts, sizes, strict=True)])  # (sum n, D)

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Tensor) -> Tensor:
        grad = grad_outputs[0].contiguous().clone()  # (sum n, D)
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.start : ctx.stop]


def gather_features(x: Tensor) -> Tensor:
    """Concatenate ``x`` from every rank (rank order), differentiably.

    Args:
        x: ``(n, D)`` features of this rank (``n`` may differ between ranks).

    Returns:
        ``(sum of n, D)`` features of all ranks; ``x`` itself when not distributed. The
        backward returns this rank's rows of the gradient summed over ranks (see the
        module docstring for why that is the DDP-correct gradient).
    """
    check_embeddings(x, "x", "gather_features")
    if not is_distributed():
        return x
    out: Tensor = _AllGather.apply(x)
    return out


def gather_labels(labels: Tensor) -> Tensor:
    """Concatenate the ``(n,)`` integer labels of every rank (rank order), no gradient.

    The companion of :func:`gather_features` for per-pair labels (e.g. the groups of
    :func:`~medmodal.align.unicl.unicl_loss`); ``labels`` itself when not distributed.

    Raises:
        InvalidParameterError: ``labels`` is not a 1-D integer tensor.
    """
    if not isinstance(labels, Tensor) or labels.dim() != 1 or labels.dtype.is_floating_point:
        raise InvalidParameterError(
            "gather_labels: labels must be a 1-D integer tensor, got "
            f"{getattr(labels, 'dtype', type(labels).__name__)} of shape "
            f"{tuple(getattr(labels, 'shape', ()))}"
        )
    if not is_distributed():
        return labels
    sizes = _gather_sizes(labels.shape[0], labels.device)
    padded = labels.new_zeros(max(sizes))
    padded[: labels.shape[0]] = labels
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    return torch.cat([p[:s] for p, s in zip(parts, sizes, strict=True)])


__all__ = ["gather_features", "gather_labels", "is_distributed"]
