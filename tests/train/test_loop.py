from __future__ import annotations

import math
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from tests.train.conftest import build_tiny, make_tiny, mse_loss
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from medmodal._torch import AdamW
from medmodal.errors import (
    DataNotFoundError,
    InvalidParameterError,
    MedmodalError,
    MedmodalWarning,
)
from medmodal.train import TrainConfig, fit, load_checkpoint, read_train_config
from medmodal.train.optim import warmup_cosine

Batch = tuple[torch.Tensor, torch.Tensor]


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_fit_learns_and_returns_a_typed_result(
    train_data: TensorDataset, val_data: TensorDataset, quick_config: TrainConfig
) -> None:
    model = make_tiny(0, dropout=0.0)
    result = fit(model, train_data, val_data, quick_config.replace(epochs=8), loss_fn=mse_loss)
    h = result.history
    assert list(h["epoch"]) == list(range(1, 9))
    assert {"step", "lr", "train_loss", "val_loss", "time_s"} <= set(h.columns)
    assert h["val_loss"].iloc[-1] < 0.5 * h["val_loss"].iloc[0]
    assert len(result.steps) == 8 * 6 == h["step"].iloc[-1]  # 96 examples / 16 per batch
    assert result.monitor == "val_loss" and result.best_metric == h["val_loss"].min()
    assert result.best_epoch == int(h["epoch"][h["val_loss"].idxmin()])
    assert result.checkpoint is None and not result.stopped_early
    assert result.to_frame() is h and result.epochs_run == 8


def test_two_seeded_runs_are_identical_and_other_seeds_differ(
    train_data: TensorDataset, val_data: TensorDataset, quick_config: TrainConfig
) -> None:
    runs = []
    for seed in (3, 3, 4):
        model = make_tiny(0)  # dropout 0.2: the run's own randomness matters
        result = fit(model, train_data, val_data, quick_config.replace(seed=seed), loss_fn=mse_loss)
        runs.append((_weights(model), result.history.drop(columns="time_s")))
    assert _same(runs[0][0], runs[1][0])
    pd.testing.assert_frame_equal(runs[0][1], runs[1][1])
    assert not _same(runs[0][0], runs[2][0])


class _CrashError(RuntimeError):
    pass


def test_resume_after_a_crash_is_bit_identical(
    train_data: TensorDataset, val_data: TensorDataset, quick_config: TrainConfig, tmp_path: Path
) -> None:
    cfg = quick_config.replace(epochs=4, restore_best=False)
    straight = make_tiny(0)
    expected = fit(straight, train_data, val_data, cfg, loss_fn=mse_loss)

    calls = {"n": 0}

    def crashing_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
        calls["n"] += model.training  # training steps only
        if calls["n"] > 2 * 6 + 3:  # mid-way through epoch 3 (6 steps per epoch)
            raise _CrashError("power cut")
        return mse_loss(model, batch)

    run_cfg = cfg.replace(out_dir=str(tmp_path / "run"))
    with pytest.raises(_CrashError):
        fit(make_tiny(0), train_data, val_data, run_cfg, loss_fn=crashing_loss)
    assert load_checkpoint(tmp_path / "run" / "last", build_model=build_tiny).state.epoch == 2

    resumed = make_tiny(99)  # different initial weights: all of them come from the checkpoint
    result = fit(resumed, train_data, val_data, run_cfg, loss_fn=mse_loss, resume=True)
    assert _same(_weights(straight), _weights(resumed))
    pd.testing.assert_frame_equal(
        expected.history.drop(columns="time_s"), result.history.drop(columns="time_s")
    )
    pd.testing.assert_frame_equal(expected.steps, result.steps)
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert list(metrics["epoch"]) == [1, 2, 3, 4]


def test_resume_after_a_crash_between_the_checkpoint_renames(
    train_data: TensorDataset, quick_config: TrainConfig, tmp_path: Path
) -> None:
    cfg = quick_config.replace(epochs=2, out_dir=str(tmp_path / "run"), restore_best=False)
    trained = make_tiny(0)
    fit(trained, train_data, None, cfg, loss_fn=mse_loss)
    # A crash mid-swap leaves only the renamed-away copy of last/.
    (tmp_path / "run" / "last").rename(tmp_path / "run" / ".last.old-1-0123abcd")
    resumed = make_tiny(7)
    result = fit(resumed, train_data, None, cfg, loss_fn=mse_loss, resume=True)
    assert result.epochs_run == 2 and _same(_weights(resumed), _weights(trained))


def test_resume_needs_a_checkpoint_and_a_run_is_not_overwritten(
    train_data: TensorDataset, quick_config: TrainConfig, tmp_path: Path
) -> None:
    cfg = quick_config.replace(epochs=1, out_dir=str(tmp_path / "run"))
    with pytest.raises(DataNotFoundError, match="holds no checkpoint"):
        fit(make_tiny(), train_data, None, cfg, loss_fn=mse_loss, resume=True)
    with pytest.raises(InvalidParameterError, match=r"needs config\.out_dir"):
        fit(make_tiny(), train_data, None, quick_config, loss_fn=mse_loss, resume=True)
    fit(make_tiny(), train_data, None, cfg, loss_fn=mse_loss)
    with pytest.raises(InvalidParameterError, match="refusing to write into"):
        fit(make_tiny(), train_data, None, cfg, loss_fn=mse_loss)


class _Scripted:
    """An evaluate() that reports a scripted metric and snapshots the weights it saw."""

    def __init__(self, values: list[float]) -> None:
        self.values, self.seen = values, []  # type: list[float], list[dict]

    def __call__(self, model: nn.Module, data: Dataset) -> dict[str, float]:
        assert not model.training and not torch.is_grad_enabled()
        self.seen.append(_weights(model))
        return {"score": self.values[len(self.seen) - 1]}


@pytest.mark.parametrize("to_disk", [False, True])
def test_early_stopping_restores_the_best_weights(
    train_data: TensorDataset,
    val_data: TensorDataset,
    quick_config: TrainConfig,
    tmp_path: Path,
    to_disk: bool,
) -> None:
    evaluate = _Scripted([0.5, 0.8, 0.7, 0.79, 0.9, 1.0])
    cfg = quick_config.replace(epochs=6, patience=2, monitor="score", mode="max")
    if to_disk:
        cfg = cfg.replace(out_dir=str(tmp_path / "run"))
    model = make_tiny(0)
    result = fit(model, train_data, val_data, cfg, loss_fn=mse_loss, evaluate=evaluate)
    assert result.stopped_early and result.epochs_run == 4
    assert (result.best_epoch, result.best_metric) == (2, 0.8)
    assert _same(_weights(model), evaluate.seen[1])
    assert not _same(_weights(model), evaluate.seen[3])
    if to_disk:
        assert result.checkpoint == tmp_path / "run" / "best"
        best = load_checkpoint(tmp_path / "run", build_model=build_tiny)
        assert _same(_weights(best.model), evaluate.seen[1])
        assert best.state.best_epoch == 2 and best.train_config == cfg


def test_lr_follows_warmup_then_cosine(
    train_data: TensorDataset, quick_config: TrainConfig
) -> None:
    cfg = quick_config.replace(epochs=5, warmup_steps=6, lr=0.01, min_lr_ratio=0.1)
    result = fit(make_tiny(), train_data, None, cfg, loss_fn=mse_loss)
    lrs = result.steps["lr"].to_numpy()
    expected = [0.01 * warmup_cosine(s, warmup=6, total=30, min_ratio=0.1) for s in range(30)]
    assert lrs == pytest.approx(expected, rel=1e-12)
    assert lrs[0] == 0.0 and lrs.argmax() == 6 and lrs[-1] > 0.001


def test_gradients_are_clipped(
    train_data: TensorDataset, quick_config: TrainConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    norms: list[float] = []
    step = AdamW.step

    def record(optimizer: AdamW) -> None:
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))
        step(optimizer)

    def huge_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
        return 1e4 * mse_loss(model, batch)

    monkeypatch.setattr(AdamW, "step", record)
    cfg = quick_config.replace(epochs=1, grad_clip=0.5)
    result = fit(make_tiny(), train_data, None, cfg, loss_fn=huge_loss)
    assert len(norms) == len(result.steps) > 0
    assert (result.steps["grad_norm"] > 10).all()  # the logged norm is before clipping
    assert max(norms) == pytest.approx(0.5, rel=1e-4)


def test_num_threads_holds_during_fit_and_is_restored(
    train_data: TensorDataset, quick_config: TrainConfig
) -> None:
    seen: list[int] = []

    def loss(model: nn.Module, batch: Batch) -> torch.Tensor:
        seen.append(torch.get_num_threads())
        return mse_loss(model, batch)

    before = torch.get_num_threads()
    fit(make_tiny(), train_data, None, quick_config.replace(epochs=1, num_threads=3), loss_fn=loss)
    assert seen and set(seen) == {3}
    assert torch.get_num_threads() == before


def test_bf16_autocast_runs_the_forward_in_bfloat16(
    train_data: TensorDataset, val_data: TensorDataset, quick_config: TrainConfig
) -> None:
    dtypes: set[torch.dtype] = set()

    def loss(model: nn.Module, batch: Batch) -> torch.Tensor:
        x, y = batch
        out = model(x)
        dtypes.add(out.dtype)
        return ((out.float() - y) ** 2).mean()

    model = make_tiny(0, dropout=0.0)
    result = fit(model, train_data, val_data, quick_config.replace(bf16=True), loss_fn=loss)
    assert dtypes == {torch.bfloat16}
    assert next(model.parameters()).dtype == torch.float32  # master weights stay float32
    assert result.history["val_loss"].iloc[-1] < result.history["val_loss"].iloc[0]


def test_run_folder_contents(
    train_data: TensorDataset, val_data: TensorDataset, quick_config: TrainConfig, tmp_path: Path
) -> None:
    cfg = quick_config.replace(epochs=3, eval_every=2, out_dir=str(tmp_path / "run"))
    result = fit(make_tiny(), train_data, val_data, cfg, loss_fn=mse_loss)
    run = tmp_path / "run"
    assert TrainConfig.from_json(run / "train_config.json") == cfg
    metrics = pd.read_csv(run / "metrics.csv")
    assert list(metrics["epoch"]) == [1, 2, 3]
    assert math.isnan(metrics["val_loss"][0]) and not metrics["val_loss"][1:].isna().any()
    files = {p.name for p in (run / "last").iterdir()}
    assert files == {
        "config.json",
        "model.safetensors",
        "optimizer.safetensors",
        "optimizer.json",
        "history.json",
    }
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary folders
    assert result.checkpoint == run / "best"


def test_bad_arguments_are_clear_errors(
    train_data: TensorDataset, val_data: TensorDataset, quick_config: TrainConfig
) -> None:
    with pytest.raises(InvalidParameterError, match="needs a val_dataset"):
        fit(make_tiny(), train_data, None, quick_config.replace(patience=2), loss_fn=mse_loss)
    acc_cfg = quick_config.replace(monitor="acc")
    with pytest.raises(InvalidParameterError, match="needs an evaluate function"):
        fit(make_tiny(), train_data, val_data, acc_cfg, loss_fn=mse_loss)
    with pytest.raises(InvalidParameterError, match=r"monitor='acc' is not among.*score"):
        fit(
            make_tiny(),
            train_data,
            val_data,
            acc_cfg,
            loss_fn=mse_loss,
            evaluate=lambda m, d: {"score": 1.0},
        )
    with pytest.raises(InvalidParameterError, match=r"model must be an nn\.Module"):
        fit(object(), train_data, None, quick_config, loss_fn=mse_loss)  # type: ignore[arg-type]
    frozen = make_tiny().requires_grad_(False)
    with pytest.raises(InvalidParameterError, match="TinyNet has no trainable parameters"):
        fit(frozen, train_data, None, quick_config, loss_fn=mse_loss)
    with pytest.raises(InvalidParameterError, match="no training batch"):
        fit(make_tiny(), train_data, None, quick_config.replace(batch_size=500, drop_last=True),
            loss_fn=mse_loss)  # fmt: skip


def test_bad_losses_are_clear_errors(train_data: TensorDataset, quick_config: TrainConfig) -> None:
    def per_example(model: nn.Module, batch: Batch) -> torch.Tensor:
        return (model(batch[0]) - batch[1]) ** 2

    with pytest.raises(InvalidParameterError, match=r"scalar tensor, got \(16,\)"):
        fit(make_tiny(), train_data, None, quick_config, loss_fn=per_example)

    def nan_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
        return mse_loss(model, batch) * float("nan")

    with pytest.raises(MedmodalError, match="the loss is nan at step 1"):
        fit(make_tiny(), train_data, None, quick_config, loss_fn=nan_loss)


def test_dict_batches_and_collate_fn(quick_config: TrainConfig) -> None:
    class Pairs(Dataset):
        def __len__(self) -> int:
            return 40

        def __getitem__(self, i: int) -> dict[str, Any]:
            x = torch.full((4,), i / 40.0)
            return {"x": x, "y": x.sum(), "note": f"case {i}"}

    def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "x": torch.stack([it["x"] for it in items]),
            "y": torch.stack([it["y"] for it in items]),
            "note": [it["note"] for it in items],
        }

    def loss(model: nn.Module, batch: dict[str, Any]) -> torch.Tensor:
        assert isinstance(batch["note"], list)
        return ((model(batch["x"]) - batch["y"]) ** 2).mean()

    result = fit(make_tiny(), Pairs(), Pairs(), quick_config, loss_fn=loss, collate_fn=collate)
    assert len(result.history) == 4


def test_resuming_with_another_config_warns(
    train_data: TensorDataset, quick_config: TrainConfig, tmp_path: Path
) -> None:
    cfg = quick_config.replace(epochs=2, out_dir=str(tmp_path / "run"))
    fit(make_tiny(), train_data, None, cfg, loss_fn=mse_loss)
    with pytest.warns(MedmodalWarning, match="different epochs, lr than the saved run"):
        result = fit(
            make_tiny(), train_data, None, cfg.replace(epochs=3, lr=0.5), loss_fn=mse_loss,
            resume=True,
        )  # fmt: skip
    assert list(result.history["epoch"]) == [1, 2, 3]
    assert read_train_config(tmp_path / "run" / "last") == cfg.replace(epochs=3, lr=0.5)


class _Jitter(Dataset):
    """Pure augmentation noise from NumPy's global generator (as many transforms use)."""

    def __len__(self) -> int:
        return 32

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        jitter = np.random.normal(0.0, 0.5, 4).astype("float32")  # noqa: NPY002
        return torch.from_numpy(jitter), torch.tensor(0.0)


@pytest.mark.parametrize("workers", [0, 2])
def test_augmentation_is_reproducible_with_worker_processes(
    quick_config: TrainConfig, workers: int
) -> None:
    def run(seed: int) -> list[torch.Tensor]:
        seen: list[torch.Tensor] = []

        def loss(model: nn.Module, batch: Batch) -> torch.Tensor:
            seen.append(batch[0])
            return mse_loss(model, batch)

        cfg = quick_config.replace(epochs=1, num_workers=workers, seed=seed)
        fit(make_tiny(0), _Jitter(), None, cfg, loss_fn=loss)
        return seen

    first, again, other = run(0), run(0), run(1)
    assert len(first) == 2 and all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])
    # The two batches come from different workers: their augmentation must differ
    # (forked workers with the parent's NumPy state would draw the same numbers).
    assert not torch.equal(first[0], first[1])


def test_progress_prints_one_line_per_epoch(
    train_data: TensorDataset,
    val_data: TensorDataset,
    quick_config: TrainConfig,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = quick_config.replace(epochs=2, progress=True)
    fit(make_tiny(), train_data, val_data, cfg, loss_fn=mse_loss)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  train_loss ")
    assert "val_loss" in lines[1]


def test_tensorboard_scalars_when_installed(
    train_data: TensorDataset,
    quick_config: TrainConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written: list[tuple[str, float, int]] = []

    class FakeWriter:
        def __init__(self, log_dir: str) -> None:
            assert log_dir == str(tmp_path / "run" / "tensorboard")

        def add_scalar(self, tag: str, value: float, step: int) -> None:
            written.append((tag, value, step))

        def flush(self) -> None: ...

        def close(self) -> None: ...

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tensorboard", types.ModuleType("tensorboard"))
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    cfg = quick_config.replace(epochs=2, log_every=3, out_dir=str(tmp_path / "run"))
    fit(make_tiny(), train_data, None, cfg, loss_fn=mse_loss)
    tags = {tag for tag, _, _ in written}
    assert {"epoch/train_loss", "epoch/lr", "step/loss", "step/lr"} <= tags
    assert [s for t, _, s in written if t == "step/loss"] == [3, 6, 9, 12]
    assert [s for t, _, s in written if t == "epoch/train_loss"] == [1, 2]
    off = quick_config.replace(epochs=1, tensorboard=False, out_dir=str(tmp_path / "run2"))
    written.clear()
    fit(make_tiny(), train_data, None, off, loss_fn=mse_loss)
    assert written == []
