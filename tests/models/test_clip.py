"""The contrastive model: towers, heads, fixed output, save/rebuild, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_model, save_model

from medmodal.errors import InvalidParameterError
from medmodal.models import CLIPModel, CLIPOutput, create_model, list_models, model_from_config

TINY = {
    "embed_dim": 16,
    "image": {"widths": [4, 8], "image_size": 32},
    "ecg": {"width": 4, "depth": 2, "out_dim": 8},
}


@pytest.fixture(scope="module")
def image_ecg() -> CLIPModel:
    torch.manual_seed(0)
    return create_model("medpix-clip", text=None, **TINY).eval()


def test_forward_returns_normalised_embeddings(image_ecg: CLIPModel) -> None:
    out = image_ecg(image=torch.randn(3, 1, 32, 32), ecg=torch.randn(3, 12, 400))
    assert isinstance(out, CLIPOutput)
    assert out.text is None
    assert out.image.shape == (3, 16) and out.ecg.shape == (3, 16)
    torch.testing.assert_close(out.image.norm(dim=-1), torch.ones(3))
    assert float(out.logit_scale.detach()) == pytest.approx(math.log(1 / 0.07))
    raw = image_ecg.encode_image(torch.randn(2, 1, 32, 32))
    assert not torch.allclose(raw.norm(dim=-1), torch.ones(2))  # normalize=False is raw


def test_logit_scale_is_learnable_and_clamped() -> None:
    model = create_model("medpix-clip", text=None, **TINY)
    assert model.logit_scale.requires_grad
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    out = model(image=torch.randn(2, 1, 32, 32))
    assert float(out.logit_scale.detach()) == pytest.approx(math.log(100.0))
    frozen = create_model("medpix-clip", text=None, learn_logit_scale=False, **TINY)
    assert not frozen.logit_scale.requires_grad


def test_bad_input(image_ecg: CLIPModel) -> None:
    with pytest.raises(InvalidParameterError, match="no text tower"):
        image_ecg.encode_text(["a CT"])
    with pytest.raises(InvalidParameterError, match=r"\(B, C, H, W\) with 1 channel"):
        image_ecg.encode_image(torch.randn(2, 3, 32, 32))
    with pytest.raises(InvalidParameterError, match=r"\(B, leads, T\)"):
        image_ecg.encode_ecg(torch.randn(2, 1000))
    with pytest.raises(InvalidParameterError, match="floating-point"):
        image_ecg.encode_image(torch.zeros(2, 1, 32, 32, dtype=torch.long))
    with pytest.raises(InvalidParameterError, match=r"torch\.Tensor"):
        image_ecg.encode_image([[0.0]])  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="at least one"):
        image_ecg()


def test_rebuild_from_config_and_weights(tmp_path, image_ecg: CLIPModel) -> None:
    save_model(image_ecg, str(tmp_path / "m.safetensors"))
    rebuilt = model_from_config(image_ecg.config.to_dict()).eval()
    load_model(rebuilt, str(tmp_path / "m.safetensors"))
    x = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(rebuilt.encode_image(x), image_ecg.encode_image(x))
    with pytest.raises(InvalidParameterError, match="expected a dict"):
        model_from_config("medpix-clip")  # type: ignore[arg-type]


def test_gradients_reach_every_trainable_parameter() -> None:
    torch.manual_seed(1)
    model = create_model("medpix-clip", text=None, **TINY).train()
    out = model(image=torch.randn(4, 1, 32, 32), ecg=torch.randn(4, 12, 200))
    loss = -(out.image * out.ecg).sum() * out.logit_scale.exp()
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing


@pytest.mark.parametrize("name", list_models())
def test_every_named_model_builds_and_encodes(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name).eval()
    assert model.config.name == name
    for modality in model.modalities:
        if modality == "image":
            size = model.config.image.image_size
            z = model.encode_image(torch.randn(2, 1, size, size), normalize=True)
        elif modality == "ecg":
            z = model.encode_ecg(torch.randn(2, 12, 1000), normalize=True)
        else:
            z = model.encode_text(
                ["axial CT of the head", "sagittal MR of the spine"], normalize=True
            )
        assert z.shape == (2, model.config.embed_dim)
    # frozen pretrained text weights live in the package, not in the checkpoint
    assert not any(k.startswith("towers.text.") for k in model.state_dict())
