"""Small building blocks shared by the encoders: an MLP, a 1-D residual block and the
residual skip connection of the 1-D and 2-D blocks.

Example:
    >>> import torch
    >>> from medmodal.models.layers import MLP, ResidualBlock1d
    >>> MLP(5, 8, hidden=16, depth=2)(torch.zeros(3, 5)).shape
    torch.Size([3, 8])
    >>> ResidualBlock1d(4, 8, stride=2)(torch.zeros(2, 4, 100)).shape
    torch.Size([2, 8, 50])
    >>> residual_skip(8, 8, stride=1, dims=2), type(residual_skip(4, 8, stride=1, dims=2))
    (Identity(), <class 'torch.nn.modules.container.Sequential'>)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from medmodal.errors import InvalidParameterError


def _positive(name: str, value: int, where: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidParameterError(f"{where}: {name} must be a positive int, got {value!r}")


def _probability(name: str, value: float, where: str) -> None:
    if not 0.0 <= float(value) < 1.0:
        raise InvalidParameterError(f"{where}: {name} must be in [0, 1), got {value!r}")


_CONV: dict[int, type[nn.Conv1d | nn.Conv2d]] = {1: nn.Conv1d, 2: nn.Conv2d}
_NORM: dict[int, type[nn.BatchNorm1d | nn.BatchNorm2d]] = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}


def residual_skip(in_channels: int, out_channels: int, *, stride: int, dims: int) -> nn.Module:
    """The skip connection of a residual block of ``dims``-D convolutions (1 or 2).

    Identity where the block keeps the shape; else a strided 1x1 convolution (no bias)
    and batch norm that project the input to the block's output.
    """
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    conv = _CONV[dims](in_channels, out_channels, 1, stride, bias=False)
    return nn.Sequential(conv, _NORM[dims](out_channels))


class MLP(nn.Module):
    """``depth`` hidden layers of Linear → LayerNorm → GELU → Dropout, then a Linear.

    Args:
        in_dim: input features.
        out_dim: output features.
        hidden: width of the hidden layers.
        depth: number of hidden layers (0 gives a single Linear).
        dropout: dropout probability after each hidden activation.
    """

    def __init__(
        self, in_dim: int, out_dim: int, *, hidden: int = 64, depth: int = 1, dropout: float = 0.0
    ) -> None:
        super().__init__()
        for name, value in (("in_dim", in_dim), ("out_dim", out_dim), ("hidden", hidden)):
            _positive(name, value, "MLP")
        if not isinstance(depth, int) or depth < 0:
            raise InvalidParameterError(f"MLP: depth must be an int >= 0, got {depth!r}")
        _probability("dropout", dropout, "MLP")
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LayerNorm(hidden), nn.GELU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """``(..., in_dim)`` → ``(..., out_dim)``."""
        return self.net(x)


class ResidualBlock1d(nn.Module):
    """Two 1-D convolutions with batch norm and a (projected) skip connection.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        stride: temporal stride of the first convolution (2 halves the length).
        kernel_size: odd kernel length.
        dropout: dropout between the convolutions.

    References:
        He K, Zhang X, Ren S, Sun J. Deep residual learning for image recognition.
        CVPR (2016).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        stride: int = 1,
        kernel_size: int = 7,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            _positive(name, value, "ResidualBlock1d")
        _positive("stride", stride, "ResidualBlock1d")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise InvalidParameterError(
                f"ResidualBlock1d: kernel_size must be a positive odd int, got {kernel_size!r}"
            )
        _probability("dropout", dropout, "ResidualBlock1d")
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size, stride, pad, bias=False)
        self.bn1 = nn.BatchNorm1d(out_channels)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size, 1, pad, bias=False)
        self.bn2 = nn.BatchNorm1d(out_channels)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.skip = residual_skip(in_channels, out_channels, stride=stride, dims=1)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C_in, T)`` → ``(B, C_out, ceil(T / stride))``."""
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(self.drop(h)))
        return torch.relu(h + self.skip(x))
