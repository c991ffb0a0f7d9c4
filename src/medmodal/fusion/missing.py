"""Missing modalities: presence masks, modality dropout and learned "missing" embeddings.

A modality is missing for a sample when its presence mask is ``False`` or when the whole
row is NaN. Strategies never see the (zero-filled) input of a missing modality: they use a
learned embedding or token in its place, or leave it out of an average or a softmax.

Example:
    >>> import numpy as np
    >>> from medmodal.fusion.missing import presence_masks
    >>> X = {"a": np.array([[1.0, 2.0], [np.nan, np.nan]]), "b": np.ones((2, 3))}
    >>> m = presence_masks(X, {"b": np.array([True, False])})
    >>> m["a"].tolist(), m["b"].tolist()
    ([True, False], [True, False])
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, BoolArray


def presence_masks(
    X: Mapping[str, np.ndarray], masks: Mapping[str, ArrayLike] | None = None
) -> dict[str, BoolArray]:
    """Per-modality presence: the given mask AND "the row is not all NaN".

    Args:
        X: modality name → array ``(n, ...)``.
        masks: optional modality name → bool ``(n,)`` (``True`` = present).

    Raises:
        InvalidParameterError: a mask names an unknown modality or has the wrong length.
    """
    masks = dict(masks or {})
    unknown = sorted(set(masks) - set(X))
    if unknown:
        raise InvalidParameterError(
            f"masks: unknown modalities {unknown}; the data has {sorted(X)}"
        )
    out: dict[str, BoolArray] = {}
    for name, x in X.items():
        n = x.shape[0]
        flat = x.reshape(n, -1)
        present = ~np.isnan(flat).all(axis=1) if flat.shape[1] else np.ones(n, dtype=bool)
        if name in masks:
            given = np.asarray(masks[name])
            if given.shape != (n,) or given.dtype.kind not in "bui":
                raise InvalidParameterError(
                    f"masks[{name!r}] must be a bool array of shape ({n},), "
                    f"got {given.dtype} {given.shape}"
                )
            present &= given.astype(bool)
        out[name] = present
    return out


def drop_modalities(present: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Hide each present modality with probability ``p``, keeping at least one per sample.

    Samples whose every present modality was drawn for dropping keep their original mask
    (they still train the joint model); samples with nothing present stay that way.

    Args:
        present: ``(B, M)`` bool presence mask.
        p: dropout probability in ``[0, 1)``.
        generator: torch generator for reproducible draws.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> out = drop_modalities(torch.ones(1000, 2, dtype=torch.bool), 0.3, g)
        >>> bool(out.any(dim=1).all()), round(1 - out.float().mean().item(), 1)  # 2 x .3 x .7 / 2
        (True, 0.2)
    """
    if p <= 0:
        return present
    keep = torch.rand(present.shape, generator=generator) >= p
    dropped = present & keep  # (B, M)
    empty = ~dropped.any(dim=1, keepdim=True)
    return torch.where(empty, present, dropped)


class ModalityDropout(nn.Module):
    """:func:`drop_modalities` as a module: active in training mode only.

    References:
        Neverova N, Wolf C, Taylor G, Nebout F. ModDrop: adaptive multi-modal gesture
        recognition. IEEE TPAMI 38(8) (2016).
    """

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise InvalidParameterError(f"ModalityDropout: p must be in [0, 1), got {p!r}")
        self.p = p

    def forward(self, present: Tensor) -> Tensor:
        """``(B, M)`` bool → ``(B, M)`` bool."""
        return drop_modalities(present, self.p) if self.training else present


class MissingEmbedding(nn.Module):
    """One learned vector per modality that stands in for a missing modality.

    Args:
        num_modalities: M.
        dim: embedding width D.
    """

    def __init__(self, num_modalities: int, dim: int) -> None:
        super().__init__()
        self.tokens = nn.Parameter(torch.randn(num_modalities, dim) * 0.02)  # (M, D)

    def forward(self, h: Tensor, present: Tensor) -> Tensor:
        """Replace missing rows: ``h`` ``(B, M, D)``, ``present`` ``(B, M)`` → ``(B, M, D)``."""
        return torch.where(present[..., None], h, self.tokens[None].expand_as(h))

    def fill_tokens(self, tokens: Tensor, index: int, present: Tensor) -> Tensor:
        """Token sequence of modality ``index``: missing samples get the learned token.

        ``tokens`` ``(B, T, D)``, ``present`` ``(B,)`` → ``(B, T, D)``.
        """
        missing = self.tokens[index][None, None].expand_as(tokens)
        return torch.where(present[:, None, None], tokens, missing)
