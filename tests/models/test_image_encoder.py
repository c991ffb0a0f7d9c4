"""Image backbones: every registered one maps (B, 1, H, W) to (B, out_dim)."""

from __future__ import annotations

import pytest
import torch

from medmodal.errors import InvalidParameterError
from medmodal.models.config import ImageTowerConfig
from medmodal.models.image_encoder import IMAGE_BACKBONES, CompactResNet2d, build_image_encoder


@pytest.mark.parametrize("kind", IMAGE_BACKBONES.names())
def test_every_backbone(kind: str) -> None:
    torch.manual_seed(0)
    config = ImageTowerConfig(kind=kind, widths=(4, 8, 8, 16), image_size=32, pool=8, hidden=16,
                              out_dim=12)  # fmt: skip
    net = build_image_encoder(config).eval()
    out = net(torch.randn(3, 1, 32, 32))
    assert out.shape == (3, net.out_dim)
    assert torch.isfinite(out).all()
    # each image is encoded on its own (no batch mixing in eval mode)
    torch.testing.assert_close(
        net(torch.randn(1, 1, 32, 32) * 0 + 1), net(torch.ones(1, 1, 32, 32))
    )


def test_resnet_resolution_and_validation() -> None:
    net = CompactResNet2d(1, (4, 8, 16), blocks=2)
    assert net.out_dim == 16
    h = net.stages(net.stem(torch.zeros(1, 1, 64, 64)))
    assert h.shape == (1, 16, 8, 8)  # stem /2, then /2 per later stage
    with pytest.raises(InvalidParameterError, match="widths"):
        CompactResNet2d(1, ())
    with pytest.raises(InvalidParameterError, match="unknown image backbone 'vit'"):
        build_image_encoder(ImageTowerConfig(kind="vit"))
