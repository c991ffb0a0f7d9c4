"""Image towers for greyscale 2-D medical images (CT/MR slices), sized for CPU training.

Backbones are registered by name in :data:`IMAGE_BACKBONES`:

- ``resnet``: a compact ResNet (stride-2 stem, one stage per entry of ``widths``, basic
  residual blocks, global average pooling). ~0.7 M parameters at the default widths.
- ``monai-resnet``: MONAI's ResNet (basic blocks, 2-D) with the same widths.
- ``pixel-mlp``: the teaching notebook's "image encoder": the image average-pooled to a
  small grid, flattened and passed through Linear-ReLU-Dropout-Linear.
- ``efficientnet-lite0``: EfficientNet-Lite0 (:mod:`medmodal.models.efficientnet`),
  1280 features, ImageNet weights through ``create_model(..., pretrained=True)``.

Each backbone maps ``(B, C, H, W)`` to ``(B, out_dim)`` and exposes ``out_dim``.

Example:
    >>> import torch
    >>> from medmodal.models.config import ImageTowerConfig
    >>> from medmodal.models.image_encoder import build_image_encoder
    >>> _ = torch.manual_seed(0)
    >>> enc = build_image_encoder(ImageTowerConfig(widths=(8, 16), image_size=32)).eval()
    >>> enc(torch.randn(2, 1, 32, 32)).shape
    torch.Size([2, 16])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from medmodal.errors import InvalidParameterError
from medmodal.models.config import ImageTowerConfig
from medmodal.models.layers import residual_skip
from medmodal.registry import Registry

#: Image backbones by name: each is ``build(config) -> nn.Module`` with ``out_dim``.
IMAGE_BACKBONES: Registry[Callable[[ImageTowerConfig], nn.Module]] = Registry("image backbone")


class BasicBlock2d(nn.Module):
    """Two 3x3 convolutions with batch norm and a (projected) skip connection.

    References:
        He K, Zhang X, Ren S, Sun J. Deep residual learning for image recognition.
        CVPR (2016).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip = residual_skip(in_channels, out_channels, stride=stride, dims=2)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C_in, H, W)`` → ``(B, C_out, H / stride, W / stride)``."""
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.skip(x))


class CompactResNet2d(nn.Module):
    """A small ResNet for greyscale images: stem (stride 2) + stages + global pooling.

    Every stage after the first halves the resolution, so a 128-px image ends as an
    8x8 map with four stages.

    Args:
        in_channels: image channels (1 for greyscale).
        widths: channels of each stage.
        blocks: basic blocks per stage.
        dropout: dropout on the pooled features.
    """

    def __init__(
        self,
        in_channels: int = 1,
        widths: tuple[int, ...] = (16, 32, 64, 128),
        blocks: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not widths or any(int(w) < 1 for w in widths) or blocks < 1:
            raise InvalidParameterError(
                f"CompactResNet2d: widths must be positive ints and blocks >= 1, "
                f"got widths={widths!r}, blocks={blocks!r}"
            )
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 5, stride=2, padding=2, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        channels = widths[0]
        for i, width in enumerate(widths):
            for j in range(blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(BasicBlock2d(channels, int(width), stride))
                channels = int(width)
        self.stages = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.out_dim = channels

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` → ``(B, out_dim)``."""
        h = self.stages(self.stem(x))  # (B, C', H', W')
        return self.drop(h.mean(dim=(2, 3)))  # (B, C')


class PixelMLP(nn.Module):
    """The notebook's MLP "image encoder" applied to average-pooled pixels.

    Args:
        pool: the image is average-pooled to ``pool x pool`` before flattening.
        in_channels: image channels.
        hidden: hidden width.
        out_dim: output features.
        dropout: dropout after the hidden layer (the notebook used 0.2).
    """

    def __init__(
        self, pool: int = 32, in_channels: int = 1, hidden: int = 512, out_dim: int = 256,
        dropout: float = 0.2,
    ) -> None:  # fmt: skip
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(pool)
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * pool * pool, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
        )
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` → ``(B, out_dim)``."""
        return self.net(self.pool(x))  # (B, C, pool, pool) -> (B, out_dim)


class _MonaiResNet(nn.Module):
    def __init__(self, config: ImageTowerConfig) -> None:
        super().__init__()
        from monai.networks.nets import ResNet

        widths = list(config.widths)
        if len(widths) != 4:
            raise InvalidParameterError(
                f"monai-resnet: widths must have 4 stages, got {config.widths!r}"
            )
        self.net = ResNet(
            block="basic",
            layers=[config.blocks] * 4,
            block_inplanes=widths,
            spatial_dims=2,
            n_input_channels=config.in_channels,
            conv1_t_size=5,
            conv1_t_stride=2,
            no_max_pool=True,
            num_classes=None,  # type: ignore[arg-type]
            feed_forward=False,
        )
        self.out_dim = widths[-1]

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, out_dim)


@IMAGE_BACKBONES.register("resnet", description="compact 2-D ResNet (basic blocks)")
def _resnet(config: ImageTowerConfig) -> nn.Module:
    return CompactResNet2d(config.in_channels, config.widths, config.blocks, config.dropout)


@IMAGE_BACKBONES.register("monai-resnet", description="MONAI ResNet (basic blocks, 2-D)")
def _monai_resnet(config: ImageTowerConfig) -> nn.Module:
    return _MonaiResNet(config)


@IMAGE_BACKBONES.register("pixel-mlp", description="the notebook's MLP over pooled pixels")
def _pixel_mlp(config: ImageTowerConfig) -> nn.Module:
    return PixelMLP(config.pool, config.in_channels, config.hidden, config.out_dim, config.dropout)


@IMAGE_BACKBONES.register("efficientnet-lite0", description="EfficientNet-Lite0 (ImageNet-able)")
def _efficientnet_lite0(config: ImageTowerConfig) -> nn.Module:
    from medmodal.models.efficientnet import EfficientNetLite0

    return EfficientNetLite0(config.in_channels, config.dropout, config.lock)


def build_image_encoder(config: ImageTowerConfig) -> nn.Module:
    """The image backbone named by ``config.kind`` (``out_dim`` attribute set)."""
    return IMAGE_BACKBONES.get(config.kind)(config)


__all__ = [
    "IMAGE_BACKBONES",
    "BasicBlock2d",
    "CompactResNet2d",
    "PixelMLP",
    "build_image_encoder",
]
