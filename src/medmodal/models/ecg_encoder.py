"""A small 1-D ResNet over (leads, time): ECG → token sequence → pooled embedding.

Used by fusion (tokens for cross-attention) and alignment (ECG tower of ecg-text CLIP).
The signature of :class:`ECGEncoder1d` is a shared contract; keep it stable.

Example:
    >>> import torch
    >>> from medmodal.models.ecg_encoder import ECGEncoder1d
    >>> _ = torch.manual_seed(0)
    >>> enc = ECGEncoder1d(12, width=16, depth=3, out_dim=32).eval()
    >>> x = torch.randn(2, 12, 1000)  # (B, leads, time): 10 s at 100 Hz
    >>> enc.forward_tokens(x).shape  # 1000 / 2**(3+1) = 63 tokens (ceil)
    torch.Size([2, 63, 32])
    >>> enc(x).shape
    torch.Size([2, 32])
    >>> enc.num_tokens(1000)
    63
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from medmodal.errors import InvalidParameterError
from medmodal.models.layers import ResidualBlock1d


class ECGEncoder1d(nn.Module):
    """A strided 1-D ResNet that turns ``(B, C, T)`` signals into ``(B, T', out_dim)`` tokens.

    A stem convolution (stride 2) is followed by ``depth`` residual blocks, each halving
    the length; channels double every second block starting from ``width``. Each time
    step of the last feature map becomes one token, projected to ``out_dim`` and
    layer-normalised, so ``T' = ceil(T / 2**(depth + 1))``.

    Args:
        in_channels: number of leads (input channels).
        width: channels of the stem and the first blocks.
        depth: number of residual blocks (each halves the length).
        out_dim: token / embedding dimension.
        dropout: dropout inside the residual blocks and on the tokens.

    References:
        Hannun AY et al. Cardiologist-level arrhythmia detection and classification in
        ambulatory electrocardiograms using a deep neural network. Nat Med 25 (2019).
    """

    def __init__(
        self,
        in_channels: int,
        *,
        width: int = 64,
        depth: int = 4,
        out_dim: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("width", width),
            ("depth", depth),
            ("out_dim", out_dim),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidParameterError(
                    f"ECGEncoder1d: {name} must be a positive int, got {value!r}"
                )
        if not 0.0 <= float(dropout) < 1.0:
            raise InvalidParameterError(f"ECGEncoder1d: dropout must be in [0, 1), got {dropout!r}")
        self.in_channels = in_channels
        self.depth = depth
        self.out_dim = out_dim
        self.stem = nn.Sequential(
            nn.Conv1d(in_channels, width, 15, stride=2, padding=7, bias=False),
            nn.BatchNorm1d(width),
            nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        channels = width
        for i in range(depth):
            out = width * 2 ** ((i + 1) // 2)
            blocks.append(ResidualBlock1d(channels, out, stride=2, dropout=dropout))
            channels = out
        self.blocks = nn.Sequential(*blocks)
        self.proj = nn.Linear(channels, out_dim)
        self.norm = nn.LayerNorm(out_dim)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def num_tokens(self, length: int) -> int:
        """Number of tokens ``T'`` produced for an input of ``length`` samples."""
        n = int(length)
        for _ in range(self.depth + 1):
            n = math.ceil(n / 2)
        return n

    def forward_tokens(self, x: Tensor) -> Tensor:
        """Token sequence: ``(B, C, T)`` → ``(B, T', out_dim)``."""
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise InvalidParameterError(
                f"ECGEncoder1d: expected input (B, {self.in_channels}, T), got {tuple(x.shape)}"
            )
        h = self.blocks(self.stem(x))  # (B, C', T')
        tokens = self.proj(h.transpose(1, 2))  # (B, T', out_dim)
        return self.drop(self.norm(tokens))

    def forward(self, x: Tensor) -> Tensor:
        """Pooled embedding: ``(B, C, T)`` → ``(B, out_dim)`` (mean of the tokens)."""
        return self.forward_tokens(x).mean(dim=1)
