from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from medmodal.align import clip_loss
from medmodal.errors import InvalidParameterError
from medmodal.train import (
    TrainConfig,
    contrastive_loss_fn,
    fit,
    load_checkpoint,
    retrieval_evaluate,
    retrieval_evaluator,
)


@dataclass
class PairOutput:
    image: Tensor  # (B, D) unit rows
    text: Tensor  # (B, D) unit rows
    logit_scale: Tensor  # () log scale


class TinyClip(nn.Module):
    """Two linear towers and a learnable temperature, shaped like medmodal's CLIPModel."""

    def __init__(self, dim_image: int = 12, dim_text: int = 10, embed: int = 8) -> None:
        super().__init__()
        self.image_tower = nn.Linear(dim_image, embed)
        self.text_tower = nn.Linear(dim_text, embed)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, x: Tensor, normalize: bool = False) -> Tensor:
        z = self.image_tower(x)
        return nn.functional.normalize(z, dim=-1) if normalize else z

    def encode_text(self, x: Tensor, normalize: bool = False) -> Tensor:
        z = self.text_tower(x)
        return nn.functional.normalize(z, dim=-1) if normalize else z

    def forward(self, *, image: Tensor, text: Tensor) -> PairOutput:
        return PairOutput(
            self.encode_image(image, True), self.encode_text(text, True), self.logit_scale
        )


class AlignedPairs(Dataset):
    """Image/text feature pairs that share a latent code (plus modality-specific noise)."""

    def __init__(self, n: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        mix = torch.Generator().manual_seed(1234)  # the same 'physics' for every split
        z = torch.randn(n, 6, generator=g)
        self.image = z @ torch.randn(6, 12, generator=mix) + 0.3 * torch.randn(n, 12, generator=g)
        self.text = z @ torch.randn(6, 10, generator=mix) + 0.3 * torch.randn(n, 10, generator=g)

    def __len__(self) -> int:
        return len(self.image)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.image[i], "text": self.text[i], "case": i // 2}


def test_contrastive_training_beats_chance_on_held_out_pairs() -> None:
    torch.manual_seed(0)
    model = TinyClip()
    train, val = AlignedPairs(256, seed=1), AlignedPairs(100, seed=2)
    before = retrieval_evaluate(model, val)
    cfg = TrainConfig(
        epochs=10, batch_size=32, lr=0.01, monitor="mean_R@1", mode="max", patience=5,
        progress=False,
    )  # fmt: skip
    result = fit(
        model, train, val, cfg, loss_fn=contrastive_loss_fn(), evaluate=retrieval_evaluator()
    )
    after = retrieval_evaluate(model, val)
    assert after["mean_R@1"] >= 20 / 100  # chance is 1 / 100
    assert after["mean_R@1"] > 3 * before["mean_R@1"]
    assert after["mean_R@1"] == result.best_metric  # best weights restored
    assert result.history["val_loss"].iloc[-1] < math.log(32) - 1.0
    assert {"a_to_b_R@10", "b_to_a_median_rank", "mean_R@5"} <= set(result.history.columns)


def test_loss_fn_is_clip_loss_of_the_model_output() -> None:
    torch.manual_seed(0)
    model, data = TinyClip(), AlignedPairs(16, seed=3)
    batch = {"image": data.image, "text": data.text, "case": list(range(16))}
    out = model(image=data.image, text=data.text)
    expected = clip_loss(out.image, out.text, out.logit_scale)
    assert torch.equal(contrastive_loss_fn()(model, batch), expected)
    chunked = contrastive_loss_fn(chunk_size=5)(model, batch)
    assert float(chunked.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)


def test_loss_under_bf16_autocast_is_float32_and_close() -> None:
    torch.manual_seed(0)
    model, data = TinyClip(), AlignedPairs(32, seed=3)
    batch = {"image": data.image, "text": data.text}
    exact = contrastive_loss_fn()(model, batch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = contrastive_loss_fn()(model, batch)
    assert low.dtype == torch.float32
    assert float(low.detach()) == pytest.approx(float(exact.detach()), abs=0.05)


def test_retrieval_with_group_ids() -> None:
    torch.manual_seed(0)
    model = TinyClip()
    with torch.no_grad():  # identical towers on identical inputs: perfect retrieval
        model.text_tower = model.image_tower

    class Same(AlignedPairs):
        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"image": self.image[i], "text": self.image[i], "case": f"c{i // 2}"}

    metrics = retrieval_evaluate(model, Same(20, seed=0), ids_key="case", ks=(1, 3))
    assert metrics["a_to_b_R@1"] == metrics["b_to_a_R@1"] == 1.0
    assert "mean_R@3" in metrics and "n" not in metrics
    assert model.training  # the mode is restored


def test_contrastive_helpers_reject_bad_input() -> None:
    model = TinyClip()
    with pytest.raises(InvalidParameterError, match="two different names"):
        contrastive_loss_fn(("image", "image"))
    with pytest.raises(InvalidParameterError, match="keys 'image' and 'text'"):
        contrastive_loss_fn()(model, {"image": torch.randn(2, 12)})
    with pytest.raises(InvalidParameterError, match="has no 'ecg' embeddings"):
        contrastive_loss_fn(("image", "ecg"))(
            lambda **kw: PairOutput(torch.ones(2, 2), torch.ones(2, 2), torch.zeros(())),  # type: ignore[arg-type]
            {"image": 1, "ecg": 2},
        )
    with pytest.raises(InvalidParameterError, match=r"has no encode_ecg\(\) method"):
        retrieval_evaluate(model, AlignedPairs(4, 0), modalities=("image", "ecg"))


def test_trains_and_reloads_a_medmodal_clip_model(tmp_path: Path) -> None:
    models = pytest.importorskip("medmodal.models")
    torch.manual_seed(0)
    config = {
        "name": "tiny-image-ecg",
        "embed_dim": 16,
        "image": {"widths": [8, 16], "image_size": 32},
        "ecg": {"width": 8, "depth": 2, "out_dim": 16},
    }
    model = models.model_from_config(config)

    class ImageECG(Dataset):
        def __len__(self) -> int:
            return 24

        def __getitem__(self, i: int) -> dict[str, Tensor]:
            g = torch.Generator().manual_seed(i)
            return {
                "image": torch.randn(1, 32, 32, generator=g),
                "ecg": torch.randn(12, 500, generator=g),
            }

    cfg = TrainConfig(
        epochs=2, batch_size=8, lr=1e-3, monitor="mean_R@5", mode="max", progress=False,
        out_dir=str(tmp_path / "run"),
    )  # fmt: skip
    result = fit(
        model,
        ImageECG(),
        ImageECG(),
        cfg,
        loss_fn=contrastive_loss_fn(("image", "ecg")),
        evaluate=retrieval_evaluator(("image", "ecg")),
    )
    assert result.checkpoint is not None
    loaded = load_checkpoint(tmp_path / "run").model  # rebuilt by model_from_config
    assert type(loaded) is type(model)
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
