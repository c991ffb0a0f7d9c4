"""Contrastive alignment losses: CLIP's symmetric InfoNCE and SigLIP's pairwise sigmoid.

Both take **L2-normalised** ``(N, D)`` embeddings paired row by row (``a[i]`` with
``b[i]``; e.g. an image and its caption) and a **log** logit scale ``t``: logits are
``exp(t) * a @ b.T``, so the learnable parameter lives on a log scale, as in CLIP.
Unnormalised rows raise :class:`~medmodal.errors.InvalidParameterError` naming the row
(the loss is only meaningful on the unit sphere; normalise with
``torch.nn.functional.normalize(x, dim=-1)``).

``clip_loss`` computes log-softmax through log-sum-exp (never ``exp`` then ``log``), so it
is stable at any temperature; with ``chunk_size`` it runs in ``chunk_size^2`` tiles and
never builds the ``N x N`` logits (same value and gradients; see ``_chunked.py``).
Gathering embeddings across processes is kept apart: see
:func:`medmodal.align.distributed.gather_features`.

Example:
    >>> import torch
    >>> import torch.nn.functional as F
    >>> from medmodal.align.loss import ClipLoss, clip_loss
    >>> g = torch.Generator().manual_seed(0)
    >>> a = F.normalize(torch.randn(8, 16, generator=g), dim=-1)
    >>> t = torch.tensor(2.0)
    >>> dense, tiled = clip_loss(a, a, t), clip_loss(a, a, t, chunk_size=3)
    >>> bool(torch.allclose(dense, tiled)), round(float(clip_loss(a, a, torch.tensor(-30.0))), 4)
    (True, 2.0794)
    >>> round(float(ClipLoss().logit_scale.detach().exp()), 2)  # 1 / 0.07
    14.29

References:
    Radford A, Kim JW, Hallacy C, et al. Learning transferable visual models from natural
    language supervision. ICML 2021 (CLIP; logit scale init 1/0.07, clipped at 100).
    van den Oord A, Li Y, Vinyals O. Representation learning with contrastive predictive
    coding. arXiv:1807.03748 (InfoNCE).
    Zhai X, Mustafa B, Kolesnikov A, Beyer L. Sigmoid loss for language image
    pre-training. ICCV 2023 (SigLIP; scale init 10, bias init -10).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from medmodal.align._checks import (
    MAX_LOG_SCALE,
    check_chunk_size,
    check_normalized,
    check_pair,
    check_scalar,
)
from medmodal.align._chunked import chunked_clip_loss
from medmodal.errors import InvalidParameterError

#: CLIP's initial log logit scale: ``ln(1 / 0.07)`` (temperature 0.07).
CLIP_INIT_LOG_SCALE = math.log(1 / 0.07)
#: SigLIP's initial log logit scale (``ln 10``) and logit bias (``-10``).
SIGLIP_INIT_LOG_SCALE = math.log(10.0)
SIGLIP_INIT_BIAS = -10.0


def _inputs(a: Tensor, b: Tensor, logit_scale: Tensor | float, where: str) -> tuple[Tensor, ...]:
    ta, tb = check_pair(a, b, where)
    check_normalized(ta, "a", where)
    check_normalized(tb, "b", where)
    return ta, tb, check_scalar(logit_scale, "logit_scale", where, ta)


def clip_loss(
    a: Tensor,
    b: Tensor,
    logit_scale: Tensor | float,
    *,
    logit_bias: Tensor | float | None = None,
    chunk_size: int | None = None,
) -> Tensor:
    """Symmetric InfoNCE (CLIP) loss of paired L2-normalised embeddings.

    ``loss = (CE(T, I) + CE(T.T, I)) / 2`` with logits ``T = exp(min(t, ln 100)) * a @ b.T``
    and the pairs on the diagonal; cross-entropies are means over the batch, computed
    through log-softmax (log-sum-exp), so they never overflow.

    Args:
        a: ``(N, D)`` L2-normalised embeddings of the first modality.
        b: ``(N, D)`` L2-normalised embeddings of the second modality, paired with ``a``.
        logit_scale: the **log** of the logit scale ``t`` (a scalar tensor, learnable, or a
            float); exponentiated here and clamped to ``<= ln 100`` (scale ``<= 100``,
            temperature ``>= 0.01``), as in CLIP. Must be finite.
        logit_bias: optional scalar added to every logit. A shared offset cancels in the
            softmax, so it changes neither the value nor any gradient (its own gradient is
            zero); accepted so CLIP and SigLIP heads are interchangeable.
        chunk_size: ``None`` builds the ``N x N`` logits (fastest for small ``N``); an
            integer computes the same loss and gradients in ``chunk_size x chunk_size``
            tiles with ``O(N D + chunk_size^2)`` memory (2048 is a good CPU choice).

    Returns:
        The scalar loss (0-d tensor). Random embeddings give about ``ln N``.

    Raises:
        InvalidParameterError: shapes differ or are not ``(N, D)``, a row is not unit norm,
            ``logit_scale``/``logit_bias`` is not a finite scalar, or ``chunk_size < 1``.
    """
    where = "clip_loss"
    ta, tb, t = _inputs(a, b, logit_scale, where)
    chunk = check_chunk_size(chunk_size, where)
    bias = None if logit_bias is None else check_scalar(logit_bias, "logit_bias", where, ta)
    scale = t.clamp(max=MAX_LOG_SCALE).exp()
    if chunk is not None:
        loss = chunked_clip_loss(ta, tb, scale, chunk)
        return loss if bias is None else loss + 0.0 * bias
    logits = scale * ta @ tb.T  # (N, N)
    if bias is not None:
        logits = logits + bias
    labels = torch.arange(ta.shape[0], device=ta.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def siglip_loss(
    a: Tensor,
    b: Tensor,
    logit_scale: Tensor | float,
    logit_bias: Tensor | float,
) -> Tensor:
    """SigLIP's pairwise sigmoid loss of paired L2-normalised embeddings.

    ``loss = -1/N * sum_ij log sigmoid(z_ij * (exp(t) * a_i . b_j + bias))`` with
    ``z_ij = 1`` for pairs (``i == j``) and ``-1`` otherwise; every pair is an independent
    binary problem, so no softmax over the batch is needed.

    Args:
        a: ``(N, D)`` L2-normalised embeddings of the first modality.
        b: ``(N, D)`` L2-normalised embeddings of the second modality, paired with ``a``.
        logit_scale: the **log** of the logit scale (not clamped; SigLIP starts at ``ln 10``).
        logit_bias: the logit bias (SigLIP starts at ``-10`` so the many negatives start
            with a small loss).

    Raises:
        InvalidParameterError: as :func:`clip_loss`.

    Example:
        >>> import torch
        >>> a = torch.eye(4)
        >>> round(float(siglip_loss(a, a, torch.tensor(2.3026), torch.tensor(-10.0))), 3)
        0.693
    """
    where = "siglip_loss"
    ta, tb, t = _inputs(a, b, logit_scale, where)
    bias = check_scalar(logit_bias, "logit_bias", where, ta)
    logits = t.exp() * ta @ tb.T + bias  # (N, N)
    signs = 2 * torch.eye(ta.shape[0], device=ta.device, dtype=ta.dtype) - 1  # (N, N)
    return -F.logsigmoid(signs * logits).sum() / ta.shape[0]


def _check_init(value: float, name: str, where: str) -> float:
    if not math.isfinite(value):
        raise InvalidParameterError(f"{where}: {name}={value}; it must be finite")
    return float(value)


class ClipLoss(nn.Module):
    """CLIP loss with a learnable log logit scale (``ln(1/0.07)`` at start, kept ``<= ln 100``).

    The parameter is clamped in place to ``max_log_scale`` before each forward (as
    OpenCLIP does after each optimiser step), so it can never drift above the cap where
    its gradient would vanish.

    Args:
        init_log_scale: initial value of :attr:`logit_scale` (log of the logit scale).
        max_log_scale: upper bound of the log scale (``ln 100``).
        learnable: whether :attr:`logit_scale` is an ``nn.Parameter`` (else a buffer).
        chunk_size: forwarded to :func:`clip_loss` (``None``: dense logits).

    Example:
        >>> import torch.nn.functional as F
        >>> loss_fn = ClipLoss()
        >>> x = F.normalize(torch.randn(4, 8), dim=-1)
        >>> loss = loss_fn(x, x)
        >>> loss.backward()
        >>> loss_fn.logit_scale.grad is not None
        True
    """

    def __init__(
        self,
        init_log_scale: float = CLIP_INIT_LOG_SCALE,
        *,
        max_log_scale: float = MAX_LOG_SCALE,
        learnable: bool = True,
        chunk_size: int | None = None,
    ) -> None:
        super().__init__()
        where = "ClipLoss"
        self.max_log_scale = min(_check_init(max_log_scale, "max_log_scale", where), MAX_LOG_SCALE)
        init = torch.tensor(_check_init(init_log_scale, "init_log_scale", where))
        self.chunk_size = check_chunk_size(chunk_size, where)
        if learnable:
            self.logit_scale = nn.Parameter(init)
        else:
            self.register_buffer("logit_scale", init)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """Loss of paired L2-normalised ``(N, D)`` embeddings ``a`` and ``b``."""
        with torch.no_grad():
            self.logit_scale.clamp_(max=self.max_log_scale)
        return clip_loss(a, b, self.logit_scale, chunk_size=self.chunk_size)

    def extra_repr(self) -> str:
        return f"max_log_scale={self.max_log_scale:.4f}, chunk_size={self.chunk_size}"


class SigLipLoss(nn.Module):
    """SigLIP loss with a learnable log logit scale (``ln 10``) and logit bias (``-10``).

    Example:
        >>> import torch.nn.functional as F
        >>> x = F.normalize(torch.randn(4, 8), dim=-1)
        >>> SigLipLoss()(x, x).ndim
        0
    """

    def __init__(
        self,
        init_log_scale: float = SIGLIP_INIT_LOG_SCALE,
        init_bias: float = SIGLIP_INIT_BIAS,
    ) -> None:
        super().__init__()
        where = "SigLipLoss"
        self.logit_scale = nn.Parameter(
            torch.tensor(_check_init(init_log_scale, "init_log_scale", where))
        )
        self.logit_bias = nn.Parameter(torch.tensor(_check_init(init_bias, "init_bias", where)))

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """Loss of paired L2-normalised ``(N, D)`` embeddings ``a`` and ``b``."""
        return siglip_loss(a, b, self.logit_scale, self.logit_bias)


__all__ = [
    "CLIP_INIT_LOG_SCALE",
    "MAX_LOG_SCALE",
    "SIGLIP_INIT_BIAS",
    "SIGLIP_INIT_LOG_SCALE",
    "ClipLoss",
    "SigLipLoss",
    "clip_loss",
    "siglip_loss",
]
