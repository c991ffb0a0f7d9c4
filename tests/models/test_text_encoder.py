"""The pretrained MiniLM text tower: offline, mean pooling, cache, partial fine-tuning."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from medmodal.errors import InvalidParameterError
from medmodal.models.config import TextTowerConfig
from medmodal.models.text_encoder import MiniLMTextEncoder, minilm_path


@pytest.fixture(scope="module")
def frozen() -> MiniLMTextEncoder:
    return MiniLMTextEncoder(TextTowerConfig())


def test_weights_come_from_the_package() -> None:
    path = minilm_path()
    assert (path / "model.safetensors").is_file()


def test_pretrained_semantics(frozen: MiniLMTextEncoder) -> None:
    z = F.normalize(frozen(["a CT scan of the brain", "computed tomography of the head",
                            "a recipe for chocolate cake"]), dim=-1)  # fmt: skip
    assert z.shape == (3, 384)
    assert float(z[0] @ z[1]) > float(z[0] @ z[2]) + 0.2


def test_frozen_encoder_caches_and_is_not_trained(frozen: MiniLMTextEncoder) -> None:
    frozen.clear_cache()
    first = frozen(["sagittal MR of the spine", "axial CT"])
    assert len(frozen._cache) == 2
    again = frozen(["axial CT", "sagittal MR of the spine", "axial CT"])
    torch.testing.assert_close(again[0], first[1])
    assert len(frozen._cache) == 2
    assert not first.requires_grad
    assert list(frozen.parameters()) == []
    # padding does not change a sentence's embedding (mean over real tokens only)
    alone = frozen._encode(["axial CT"])
    torch.testing.assert_close(alone[0], first[1], atol=1e-5, rtol=1e-5)


def test_last_layers_fine_tuned() -> None:
    enc = MiniLMTextEncoder(TextTowerConfig(trainable_layers=1, max_length=16))
    trainable = {n.split(".")[3] for n, p in enc.named_parameters() if p.requires_grad}
    assert trainable == {"5"}  # only the last of the 6 layers
    out = enc(["axial CT of the head"])
    out.sum().backward()
    assert all(p.grad is not None for p in enc.parameters() if p.requires_grad)


def test_bad_text_input(frozen: MiniLMTextEncoder) -> None:
    with pytest.raises(InvalidParameterError, match="empty list"):
        frozen([])
    with pytest.raises(InvalidParameterError, match="list of strings"):
        frozen("just one string")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="must be a str"):
        frozen(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(InvalidParameterError, match="trainable_layers"):
        MiniLMTextEncoder(TextTowerConfig(trainable_layers=7))
