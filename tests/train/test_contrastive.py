"""Training alignments: fit with the align loss and evaluation; fit_alignment on a task."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from tests.align.toys import AlignedPairs, HashECGText, TinyClip
from torch import Tensor
from torch.utils.data import Dataset

from medmodal.align import (
    ECGTextPairs,
    contrastive_loss_fn,
    get_task,
    retrieval_evaluate,
    retrieval_evaluator,
)
from medmodal.errors import InvalidParameterError
from medmodal.train import TrainConfig, fit, fit_alignment, load_checkpoint


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

    class ImageECG(Dataset[dict[str, Tensor]]):
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


def _ecg_pairs(n: int, seed: int) -> ECGTextPairs:
    """Normal ECGs shift lead 0, abnormal ones lead 1; reports say which."""
    rng = np.random.default_rng(seed)
    normal = np.arange(n) % 2 == 0
    signals = rng.normal(0, 0.1, (n, 12, 20)).astype(np.float32)
    signals[normal, 0] += 1.0
    signals[~normal, 1] += 1.0
    texts = ["normal ECG sinus" if k else "abnormal ECG infarction" for k in normal]
    labels = pd.DataFrame({"normal": np.where(normal, "normal", "abnormal")})
    return ECGTextPairs(signals, texts, labels)


def test_fit_alignment_trains_a_task_with_its_recipe_loss_and_evaluation() -> None:
    torch.manual_seed(0)
    model, task = HashECGText(), get_task("ptbxl")
    recipe = task.train_config(epochs=6, batch_size=8, lr=0.05, progress=False, device="cpu")
    result = fit_alignment(model, task, _ecg_pairs(48, 1), _ecg_pairs(16, 2), recipe)
    history = result.history
    assert result.epochs_run == 6
    assert {"mean_R@10", "zs_normal", "same_text_a_to_b_R@1"} <= set(history.columns)
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    final = task.evaluate(model, _ecg_pairs(16, 2))
    assert final.retrieval_same_text.recall(1, "a_to_b") == 1.0  # each ECG finds its report
    assert "normal" in final.zero_shot


def test_fit_alignment_rejects_a_bad_recipe_before_training() -> None:
    task = get_task("ptbxl")
    with pytest.raises(InvalidParameterError, match="TrainConfig"):
        fit_alignment(
            HashECGText(), task, _ecg_pairs(8, 1), _ecg_pairs(8, 2), task.train_config(epochs=0)
        )
