"""Memory-bounded exact CLIP loss: the ``N x N`` logit matrix is never materialised.

The symmetric InfoNCE loss of logits ``T = s * a @ b.T`` is

    L = 1/(2N) * sum_i (lse_i(T[i, :]) - T_ii) + 1/(2N) * sum_j (lse_j(T[:, j]) - T_jj)

Forward: one pass over ``c x c`` tiles (one matmul each) accumulates the row and column
log-sum-exps with running maxima (``logaddexp`` of per-tile log-sum-exps), so memory is
``O(N D + c^2)`` instead of ``O(N^2)``. Backward recomputes each tile and forms its
gradient ``G = g/(2N) * (softmax_row + softmax_col) - g/N * I`` from the saved
log-sum-exps, then accumulates ``dL/da = s * G @ b`` and ``dL/db = s * G.T @ a`` tile by
tile; ``dL/ds = sum_ij G_ij (a_i . b_j) = sum_i a_i . (G @ b)_i`` falls out of the same
accumulator. Cost: 4 matmuls of ``N^2 D`` (dense autograd: 3) with no ``N^2`` buffers.

Half-precision inputs are computed in float32 and their gradients cast back.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

#: Default tile edge: 2048 x 2048 float32 tiles (16 MiB each, two live at once).
DEFAULT_CHUNK_SIZE = 2048


def _bounds(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(start, min(start + chunk, n)) for start in range(0, n, chunk)]


def _tile(storage: Tensor, rows: int, cols: int) -> Tensor:
    return storage[: rows * cols].view(rows, cols)


def _safe_margin(dtype: torch.dtype) -> float:
    """How far below the tile maximum ``exp`` stays a normal number (with room to spare)."""
    return 0.7 * -math.log(torch.finfo(dtype).tiny)  # float32: 61, float64: 496


def _lse_pass(a_s: Tensor, b: Tensor, true_logits: Tensor, chunk: int) -> tuple[Tensor, Tensor]:
    """Row and column log-sum-exps of ``a_s @ b.T``, tile by tile.

    Per tile: one matmul, the row maxima ``m``, ``E = exp(T - m)`` (one exp pass), row
    sums, and the column sums as one matrix-vector product ``E.T @ exp(m - max m)``. The
    column shift ``max m`` can make a term underflow only if it is ``> margin`` below the
    tile maximum; such a term matters only for a column whose own diagonal logit (a lower
    bound of its log-sum-exp) is that far down too. Those rare columns are recomputed
    exactly, so the result equals the plain log-sum-exp to rounding.
    """
    n = a_s.shape[0]
    row_lse = a_s.new_empty(n)  # (N,)
    col_lse = a_s.new_full((n,), float("-inf"))  # (N,)
    edge, margin = min(chunk, n), _safe_margin(a_s.dtype)
    logits_buf, work_buf = a_s.new_empty(edge * edge), a_s.new_empty(edge * edge)
    for i0, i1 in _bounds(n, chunk):
        row_acc = a_s.new_full((i1 - i0,), float("-inf"))  # (ci,)
        for j0, j1 in _bounds(n, chunk):
            logits = _tile(logits_buf, i1 - i0, j1 - j0)  # (ci, cj)
            work = _tile(work_buf, i1 - i0, j1 - j0)  # (ci, cj)
            torch.mm(a_s[i0:i1], b[j0:j1].T, out=logits)
            top = logits.amax(dim=1)  # (ci,)
            torch.sub(logits, top[:, None], out=work).exp_()
            row_acc = torch.logaddexp(row_acc, work.sum(dim=1).log_().add_(top))
            peak = top.max()
            col_tile = torch.mv(work.T, (top - peak).exp_()).log_().add_(peak)  # (cj,)
            low = torch.nonzero(true_logits[j0:j1] < peak - margin).squeeze(1)
            if low.numel():
                col_tile[low] = logits[:, low].logsumexp(dim=0)
            col_lse[j0:j1] = torch.logaddexp(col_lse[j0:j1], col_tile)
        row_lse[i0:i1] = row_acc
    return row_lse, col_lse


def _grad_pass(
    a: Tensor, b: Tensor, scale: Tensor, lse: tuple[Tensor, Tensor], g: Tensor, chunk: int
) -> tuple[Tensor, Tensor, Tensor]:
    """``dL/da, dL/db, dL/ds`` by recomputing each tile from the saved log-sum-exps.

    The tile gradient ``G = coef * (exp(T - lse_row) + exp(T - lse_col)) - 2 coef I`` with
    ``coef = g / (2N)``; ``|coef|`` is folded into the exponent shifts and its sign into
    the ``addmm`` calls, so no extra pass scales the tile.
    """
    n = a.shape[0]
    acc_a, grad_b = torch.zeros_like(a), torch.zeros_like(b)  # (N, D) each
    coef = float(g) / (2 * n)
    if coef == 0.0:
        return acc_a, grad_b, (a * acc_a).sum()
    sign, log_coef = math.copysign(1.0, coef), math.log(abs(coef))
    row_shift, col_shift = lse[0] - log_coef, lse[1] - log_coef  # (N,) each
    a_s = a * scale  # (N, D)
    edge = min(chunk, n)
    logits_buf, work_buf = a.new_empty(edge * edge), a.new_empty(edge * edge)
    for i0, i1 in _bounds(n, chunk):
        for j0, j1 in _bounds(n, chunk):
            logits = _tile(logits_buf, i1 - i0, j1 - j0)  # (ci, cj)
            grad = _tile(work_buf, i1 - i0, j1 - j0)  # (ci, cj): |G| of this tile
            torch.mm(a_s[i0:i1], b[j0:j1].T, out=logits)
            torch.sub(logits, row_shift[i0:i1, None], out=grad).exp_()  # row softmax
            grad.add_(logits.sub_(col_shift[None, j0:j1]).exp_())  # + column softmax
            if i0 == j0:
                grad.diagonal().sub_(2 * abs(coef))
            acc_a[i0:i1].addmm_(grad, b[j0:j1], alpha=sign)
            grad_b[j0:j1].addmm_(grad.T, a_s[i0:i1], alpha=sign)
    grad_scale = (a * acc_a).sum()  # sum_ij G_ij (a_i . b_j)
    return acc_a.mul_(scale), grad_b, grad_scale


class ChunkedClipLoss(torch.autograd.Function):
    """Autograd function ``(a, b, scale, chunk) -> loss``; ``scale`` is the multiplier."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, scale: Tensor, chunk: int) -> Tensor:
        in_dtype = a.dtype
        work = torch.float32 if in_dtype in (torch.float16, torch.bfloat16) else in_dtype
        a_w, b_w, s_w = a.to(work), b.to(work), scale.to(work)
        true_logits = s_w * (a_w * b_w).sum(dim=1)  # (N,) diagonal T_ii
        row_lse, col_lse = _lse_pass(a_w * s_w, b_w, true_logits, chunk)
        loss = ((row_lse - true_logits).mean() + (col_lse - true_logits).mean()) / 2
        ctx.save_for_backward(a_w, b_w, s_w, row_lse, col_lse)
        ctx.chunk, ctx.in_dtype, ctx.scale_dtype = chunk, in_dtype, scale.dtype
        return loss.to(in_dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, *grad_outputs: Tensor) -> tuple[Tensor, Tensor, Tensor, None]:
        a, b, scale, row_lse, col_lse = ctx.saved_tensors
        g = grad_outputs[0].to(a.dtype)
        grad_a, grad_b, grad_s = _grad_pass(a, b, scale, (row_lse, col_lse), g, ctx.chunk)
        return (
            grad_a.to(ctx.in_dtype),
            grad_b.to(ctx.in_dtype),
            grad_s.to(ctx.scale_dtype),
            None,
        )


def chunked_clip_loss(a: Tensor, b: Tensor, scale: Tensor, chunk: int) -> Tensor:
    """Exact symmetric InfoNCE of ``scale * a @ b.T`` in ``chunk x chunk`` tiles."""
    out: Tensor = ChunkedClipLoss.apply(a, b, scale, chunk)
    return out
