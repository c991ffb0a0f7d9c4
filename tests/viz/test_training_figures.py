from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from medmodal.errors import DataNotFoundError, InvalidParameterError
from medmodal.train import TrainConfig, TrainResult, fit
from medmodal.train.optim import warmup_cosine
from medmodal.viz.training import plot_training_curves


@pytest.fixture
def result() -> TrainResult:
    """A synthetic 8-epoch run of 10 steps per epoch, best at epoch 6."""
    epochs = np.arange(1, 9)
    steps = np.arange(1, 81)
    lr = [1e-3 * warmup_cosine(s, warmup=8, total=80) for s in range(80)]
    history = pd.DataFrame(
        {
            "epoch": epochs,
            "step": epochs * 10,
            "lr": [lr[min(e * 10, 79)] for e in epochs],
            "train_loss": 4.0 / epochs,
            "val_loss": 3.0 / epochs + 0.05 * epochs,
            "mean_R@10": [0.1, 0.3, 0.5, 0.6, 0.65, 0.7, 0.69, 0.68],
            "a_to_b_median_rank": [40.0, 20, 10, 8, 6, 5, 5, 6],
            "time_s": 1.0,
        }
    )
    step_log = pd.DataFrame(
        {"step": steps, "epoch": (steps - 1) // 10 + 1, "lr": lr, "loss": 4.0 / (steps / 10)}
    )
    return TrainResult(history, step_log, "mean_R@10", 0.7, 6, None, True)


def _save(fig: Figure, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 5_000


def test_panels_curves_and_best_epoch(result: TrainResult, tmp_path: Path) -> None:
    fig = plot_training_curves(result, title="tiny run")
    loss_ax, metric_ax, lr_ax = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Validation metrics", "Learning rate"]
    assert fig.get_suptitle() == "tiny run"
    loss_labels = [line.get_label() for line in loss_ax.get_lines()]
    assert loss_labels[:3] == ["train (step)", "train", "validation"]
    assert "best epoch 6 (mean_R@10 = 0.7)" in loss_labels
    # Median rank is not in [0, 1]: left out by default; the monitor comes first.
    assert [line.get_label() for line in metric_ax.get_lines()][:1] == ["mean_R@10"]
    assert "a_to_b_median_rank" not in [line.get_label() for line in metric_ax.get_lines()]
    lr_line = lr_ax.get_lines()[0]
    assert len(lr_line.get_xdata()) == 80  # the exact per-step schedule
    assert np.argmax(lr_line.get_ydata()) == 8
    assert lr_line.get_xdata()[9] == pytest.approx(1.0)  # step 10 ends epoch 1
    assert all(ax.get_xlabel() == "epoch" for ax in fig.axes)
    assert loss_ax.get_yscale() == "linear"
    _save(fig, tmp_path, "curves.png")


def test_chosen_metrics_and_history_only(result: TrainResult) -> None:
    fig = plot_training_curves(result.history, metrics=["a_to_b_median_rank"])
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["a_to_b_median_rank"]
    with pytest.raises(InvalidParameterError, match=r"\['R@1'\] are not in the history"):
        plot_training_curves(result, metrics=["R@1"])
    no_metrics = result.history[["epoch", "step", "lr", "train_loss"]]
    assert len(plot_training_curves(no_metrics).axes) == 2


def test_from_a_run_folder(tmp_path: Path) -> None:
    import torch
    from torch.utils.data import TensorDataset

    torch.manual_seed(0)
    x = torch.randn(32, 2)
    data = TensorDataset(x, x.sum(1, keepdim=True))
    cfg = TrainConfig(epochs=3, batch_size=8, progress=False, out_dir=str(tmp_path / "run"))

    def loss(model: torch.nn.Module, batch: list[torch.Tensor]) -> torch.Tensor:
        return ((model(batch[0]) - batch[1]) ** 2).mean()

    fit(torch.nn.Linear(2, 1), data, data, cfg, loss_fn=loss)
    fig = plot_training_curves(tmp_path / "run")
    assert len(fig.axes) == 2  # no metric besides val_loss: loss and LR panels
    assert len(fig.axes[1].get_lines()[0].get_xdata()) == 12  # steps from last/history.json
    _save(fig, tmp_path, "run.png")
    with pytest.raises(DataNotFoundError, match=r"no metrics\.csv"):
        plot_training_curves(tmp_path)


def test_bad_input() -> None:
    with pytest.raises(InvalidParameterError, match="no epochs"):
        plot_training_curves(pd.DataFrame())
    with pytest.raises(InvalidParameterError, match="must be a TrainResult"):
        plot_training_curves(42)  # type: ignore[arg-type]
