"""Multi-positive contrastive loss (UniCL): pairs that share a label are all positives.

Plain InfoNCE treats every other text in the batch as a negative, even one that says the
same thing ("CT, axial, head" for two different head CTs). When the pairs carry labels
(the structured fields of a radiology caption, a diagnosis code), UniCL counts every
pair with the same label as a positive: the target of row ``i`` is spread evenly over
the columns ``j`` with ``labels[j] == labels[i]``. With all labels distinct it is exactly
:func:`~medmodal.align.loss.clip_loss`.

Example:
    >>> import torch
    >>> import torch.nn.functional as F
    >>> from medmodal.align import clip_loss
    >>> from medmodal.align.unicl import unicl_loss
    >>> g = torch.Generator().manual_seed(0)
    >>> a = F.normalize(torch.randn(6, 8, generator=g), dim=-1)
    >>> b = F.normalize(torch.randn(6, 8, generator=g), dim=-1)
    >>> t = torch.tensor(2.0)
    >>> bool(torch.allclose(unicl_loss(a, b, t, torch.arange(6)), clip_loss(a, b, t)))
    True

References:
    Yang J, Li C, Zhang P, et al. Unified contrastive learning in image-text-label space.
    CVPR 2022 (UniCL).
    Khosla P, Teterwak P, Wang C, et al. Supervised contrastive learning. NeurIPS 2020.
"""

from __future__ import annotations

import torch
from torch import Tensor

from medmodal.align._checks import MAX_LOG_SCALE, check_normalized, check_pair, check_scalar
from medmodal.errors import InvalidParameterError

__all__ = ["unicl_loss"]


def _check_labels(labels: object, n: int, device: torch.device) -> Tensor:
    if not isinstance(labels, Tensor):
        try:
            labels = torch.as_tensor(labels)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise InvalidParameterError(f"unicl_loss: labels must be integers: {exc}") from exc
    if labels.dim() != 1 or labels.shape[0] != n:
        raise InvalidParameterError(
            f"unicl_loss: labels must have shape ({n},), one per pair; got {tuple(labels.shape)}"
        )
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise InvalidParameterError(f"unicl_loss: labels must be integers, got {labels.dtype}")
    return labels.to(device)


def unicl_loss(a: Tensor, b: Tensor, logit_scale: Tensor | float, labels: Tensor) -> Tensor:
    """Symmetric contrastive loss where every pair with the same label is a positive.

    ``loss = (H(P, softmax_rows(T)) + H(P.T, softmax_cols(T))) / 2`` with logits
    ``T = exp(min(t, ln 100)) * a @ b.T`` and targets ``P[i, j] = [labels[i] == labels[j]]``
    normalised per row (each row holds its own pair, so no row is empty). Computed
    through log-softmax: stable at any temperature.

    Args:
        a: ``(N, D)`` L2-normalised embeddings of the first modality.
        b: ``(N, D)`` L2-normalised embeddings of the second modality, paired with ``a``.
        logit_scale: the **log** logit scale (clamped to ``<= ln 100`` as in CLIP).
        labels: ``(N,)`` integer label of each pair.

    Returns:
        The scalar loss (0-d tensor).

    Raises:
        InvalidParameterError: as :func:`~medmodal.align.loss.clip_loss`, or labels that
            are not ``N`` integers.
    """
    where = "unicl_loss"
    ta, tb = check_pair(a, b, where)
    check_normalized(ta, "a", where)
    check_normalized(tb, "b", where)
    scale = check_scalar(logit_scale, "logit_scale", where, ta).clamp(max=MAX_LOG_SCALE).exp()
    y = _check_labels(labels, ta.shape[0], ta.device)
    targets = (y[:, None] == y[None, :]).to(ta.dtype)  # (N, N), symmetric
    targets = targets / targets.sum(dim=1, keepdim=True)
    logits = scale * ta @ tb.T  # (N, N)
    rows = -(targets * logits.log_softmax(dim=1)).sum(dim=1).mean()
    cols = -(targets * logits.log_softmax(dim=0)).sum(dim=0).mean()
    return (rows + cols) / 2
