"""Modality encoders, chosen by input kind: a pooled vector and a token sequence each.

=============  ===================  ======================================================
kind           one sample           encoder
=============  ===================  ======================================================
``tabular``    ``(F,)`` features    MLP (vector); one token per feature (tokens)
``signal``     ``(C, T)`` leads     :class:`~medmodal.models.ecg_encoder.ECGEncoder1d`
``embedding``  ``(E,)`` or ``(L,E)``  LayerNorm + Linear projection (precomputed features)
=============  ===================  ======================================================

Without an explicit kind, 2-D data (``(n, F)``) is tabular and 3-D data (``(n, C, T)``)
is a signal; say ``kinds={"text": "embedding"}`` for precomputed embeddings.

Example:
    >>> import torch
    >>> from medmodal.fusion._base import ModalitySpec
    >>> from medmodal.fusion.config import FusionConfig
    >>> from medmodal.fusion.encoders import build_encoder
    >>> enc = build_encoder(ModalitySpec("labs", "tabular", (5,)), FusionConfig(hidden=16))
    >>> enc(torch.zeros(3, 5)).shape, enc.tokens(torch.zeros(3, 5)).shape, enc.num_tokens
    (torch.Size([3, 16]), torch.Size([3, 5, 16]), 5)
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from medmodal.errors import InvalidParameterError
from medmodal.fusion.config import FusionConfig
from medmodal.models.ecg_encoder import ECGEncoder1d
from medmodal.models.layers import MLP
from medmodal.registry import Registry

if TYPE_CHECKING:  # _base builds its strategies' encoders with this module
    from medmodal.fusion._base import ModalitySpec


class ModalityEncoder(nn.Module):
    """Interface: ``forward`` → ``(B, dim)``; ``tokens`` → ``(B, num_tokens, dim)``."""

    dim: int
    num_tokens: int

    def tokens(self, x: Tensor) -> Tensor:
        """Token sequence ``(B, num_tokens, dim)``."""
        raise NotImplementedError


class TabularEncoder(ModalityEncoder):
    """MLP for the pooled vector; a per-feature tokenizer (FT-Transformer) for tokens.

    References:
        Gorishniy Y, Rubachev I, Khrulkov V, Babenko A. Revisiting deep learning models
        for tabular data. NeurIPS (2021).
    """

    def __init__(self, n_features: int, dim: int, *, depth: int = 1, dropout: float = 0.0):
        super().__init__()
        self.dim, self.num_tokens = dim, n_features
        self.mlp = MLP(n_features, dim, hidden=dim, depth=depth, dropout=dropout)
        self.weight = nn.Parameter(torch.randn(n_features, dim) / dim**0.5)  # (F, D)
        self.bias = nn.Parameter(torch.zeros(n_features, dim))  # (F, D)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, F)`` → ``(B, D)``."""
        return self.mlp(x)

    def tokens(self, x: Tensor) -> Tensor:
        """``(B, F)`` → ``(B, F, D)``: feature value times its learned direction."""
        return self.norm(x[..., None] * self.weight + self.bias)  # (B, F, D)


class SignalEncoder(ModalityEncoder):
    """A 1-D ResNet over ``(leads, time)``: tokens are its strided time steps."""

    def __init__(
        self, shape: tuple[int, ...], dim: int, *, width: int, depth: int, dropout: float
    ) -> None:
        super().__init__()
        channels, length = shape
        self.dim = dim
        self.net = ECGEncoder1d(channels, width=width, depth=depth, out_dim=dim, dropout=dropout)
        self.num_tokens = self.net.num_tokens(length)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, T)`` → ``(B, D)``."""
        return self.net(x)

    def tokens(self, x: Tensor) -> Tensor:
        """``(B, C, T)`` → ``(B, T', D)``."""
        return self.net.forward_tokens(x)


class EmbeddingEncoder(ModalityEncoder):
    """Precomputed embeddings: LayerNorm then a Linear projection to ``dim``."""

    def __init__(self, shape: tuple[int, ...], dim: int, *, dropout: float = 0.0) -> None:
        super().__init__()
        self.dim = dim
        self.num_tokens = 1 if len(shape) == 1 else shape[0]
        self.proj = nn.Sequential(nn.LayerNorm(shape[-1]), nn.Linear(shape[-1], dim))
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def tokens(self, x: Tensor) -> Tensor:
        """``(B, E)`` → ``(B, 1, D)``; ``(B, L, E)`` → ``(B, L, D)``."""
        if x.ndim == 2:
            x = x[:, None]  # (B, 1, E)
        return self.drop(self.proj(x))

    def forward(self, x: Tensor) -> Tensor:
        """``(B, E)`` or ``(B, L, E)`` → ``(B, D)`` (mean over the L tokens)."""
        return self.tokens(x).mean(dim=1)


ENCODERS: Registry[Callable[[ModalitySpec, FusionConfig], ModalityEncoder]] = Registry(
    "modality encoder kind"
)


def _check_rank(spec: ModalitySpec, ranks: tuple[int, ...], layout: str) -> None:
    """Raise unless one sample of ``spec`` has one of ``ranks`` dimensions (``layout``)."""
    if len(spec.shape) not in ranks:
        raise InvalidParameterError(
            f"{spec.kind} modality {spec.name!r} needs {layout} data, got sample shape {spec.shape}"
        )


@ENCODERS.register("tabular", description="MLP; one token per feature")
def _tabular(spec: ModalitySpec, cfg: FusionConfig) -> ModalityEncoder:
    _check_rank(spec, (1,), "(n, features)")
    return TabularEncoder(spec.shape[0], cfg.hidden, depth=cfg.depth, dropout=cfg.dropout)


@ENCODERS.register("signal", description="1-D ResNet over (leads, time); strided time tokens")
def _signal(spec: ModalitySpec, cfg: FusionConfig) -> ModalityEncoder:
    _check_rank(spec, (2,), "(n, leads, time)")
    return SignalEncoder(
        spec.shape, cfg.hidden, width=cfg.signal_width, depth=cfg.signal_depth, dropout=cfg.dropout
    )


@ENCODERS.register("embedding", description="precomputed embeddings: LayerNorm + Linear")
def _embedding(spec: ModalitySpec, cfg: FusionConfig) -> ModalityEncoder:
    _check_rank(spec, (1, 2), "(n, E) or (n, L, E)")
    return EmbeddingEncoder(spec.shape, cfg.hidden, dropout=cfg.dropout)


def default_kind(shape: tuple[int, ...]) -> str:
    """Kind for a per-sample shape: ``(F,)`` tabular, ``(C, T)`` signal."""
    if len(shape) == 1:
        return "tabular"
    if len(shape) == 2:
        return "signal"
    raise InvalidParameterError(
        f"cannot choose an encoder for samples of shape {shape}: give (n, features) or "
        "(n, leads, time) arrays, or set kinds={name: 'embedding'}"
    )


def build_encoder(spec: ModalitySpec, config: FusionConfig) -> ModalityEncoder:
    """The encoder registered for ``spec.kind``."""
    return ENCODERS.get(spec.kind)(spec, config)


def build_encoders(
    specs: tuple[ModalitySpec, ...],
    config: FusionConfig,
    *,
    kinds: Collection[str] | None = None,
) -> nn.ModuleDict:
    """One encoder per modality (only the modalities of ``kinds`` when given), keyed by name.

    Encoders are built in the order of ``specs``, so a seed fixes their initial weights.
    """
    return nn.ModuleDict(
        {s.name: build_encoder(s, config) for s in specs if kinds is None or s.kind in kinds}
    )
