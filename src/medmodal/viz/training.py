"""Training curves: loss and validation metrics per epoch, and the learning-rate schedule.

:func:`plot_training_curves` takes what :func:`medmodal.train.fit` returns (or the run
folder it wrote) and returns a :class:`matplotlib.figure.Figure`; save it with
``fig.savefig(path, dpi=150)``.

Example:
    >>> import pandas as pd
    >>> from medmodal.viz.training import plot_training_curves
    >>> history = pd.DataFrame({"epoch": [1, 2, 3], "step": [10, 20, 30],
    ...                         "lr": [1e-3, 5e-4, 0.0], "train_loss": [2.0, 1.2, 0.9],
    ...                         "val_loss": [1.8, 1.3, 1.1], "mean_R@10": [0.2, 0.4, 0.5]})
    >>> fig = plot_training_curves(history)
    >>> [ax.get_title() for ax in fig.axes]
    ['Loss', 'Validation metrics', 'Learning rate']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from medmodal.errors import DataNotFoundError, InvalidParameterError
from medmodal.train.result import TrainResult

#: Okabe-Ito colours (colour-blind safe), the order metric lines take them.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
_NOT_METRICS = ("epoch", "step", "lr", "train_loss", "val_loss", "time_s")
_MAX_METRICS = 6


def plot_training_curves(
    run: TrainResult | pd.DataFrame | str | Path,
    *,
    steps: pd.DataFrame | None = None,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Three panels: loss, validation metrics and learning rate, against epochs.

    Args:
        run: a :class:`~medmodal.train.TrainResult`, its ``history`` DataFrame, or a run
            folder written by ``fit`` (``metrics.csv`` and ``last/history.json``).
        steps: the per-step log (``result.steps``), drawn as a faint per-step loss and
            as the exact LR schedule; taken from ``run`` when it has one.
        metrics: validation metrics to draw (default: the monitored one and the other
            metrics with values in [0, 1], e.g. recalls; at most six).
        title: figure title.

    Raises:
        InvalidParameterError: an empty history, or ``metrics`` not in it.
    """
    history, steps, best = _inputs(run, steps)
    chosen = _choose_metrics(history, metrics, best[0])
    n_panels = 3 if chosen else 2
    fig = Figure(figsize=(5.2 * n_panels, 4.0), layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    _plot_loss(axes[0], history, steps)
    if chosen:
        _plot_metrics(axes[1], history, chosen)
    _plot_lr(axes[-1], history, steps)
    for ax in axes:
        _mark_best(ax, best)
        ax.grid(alpha=0.3)
        ax.set_xlabel("epoch")
    if best[1] is not None:
        axes[0].legend(fontsize=8, loc="upper right")
    fig.suptitle(title or "Training curves")
    return fig


def _inputs(
    run: TrainResult | pd.DataFrame | str | Path, steps: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, tuple[str, int | None, float | None]]:
    """History, step log and (monitor, best epoch, best value) from any accepted input."""
    best: tuple[str, int | None, float | None] = ("val_loss", None, None)
    if isinstance(run, TrainResult):
        history, steps = run.history, run.steps if steps is None else steps
        best = (run.monitor, run.best_epoch, run.best_metric)
    elif isinstance(run, pd.DataFrame):
        history = run
    elif isinstance(run, str | Path):
        history, steps = _read_run(Path(run), steps)
    else:
        raise InvalidParameterError(
            "plot_training_curves: run must be a TrainResult, a history DataFrame or a run "
            f"folder, got {type(run).__name__}"
        )
    if history.empty or "epoch" not in history:
        raise InvalidParameterError("plot_training_curves: the history has no epochs")
    return history, steps if steps is not None and not steps.empty else None, best


def _read_run(folder: Path, steps: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    csv = folder / "metrics.csv"
    if not csv.is_file():
        raise DataNotFoundError(f"plot_training_curves: no metrics.csv in {folder}")
    log = folder / "last" / "history.json"
    if steps is None and log.is_file():
        steps = pd.DataFrame(json.loads(log.read_text()).get("steps", []))
    return pd.read_csv(csv), steps


def _choose_metrics(
    history: pd.DataFrame, metrics: Sequence[str] | None, monitor: str
) -> list[str]:
    if metrics is not None:
        missing = [m for m in metrics if m not in history]
        if missing:
            raise InvalidParameterError(
                f"plot_training_curves: metrics {missing} are not in the history; "
                f"available: {[c for c in history if c not in _NOT_METRICS]}"
            )
        return list(metrics)
    candidates = [
        str(c) for c in history.columns if c not in _NOT_METRICS and history[c].notna().any()
    ]
    unit = [c for c in candidates if history[c].dropna().between(0, 1).all()]
    unit.sort(key=lambda c: not c.startswith("mean_"))  # averages of both directions first
    first = [monitor] if monitor in candidates else []
    return (first + [c for c in unit if c not in first])[:_MAX_METRICS]


def _epoch_of_step(history: pd.DataFrame, steps: pd.DataFrame) -> np.ndarray:
    """Fractional epoch of every step (epoch e ends at history.step[e])."""
    if "step" not in history:
        return steps["epoch"].to_numpy(float)
    ends = np.r_[0, history["step"].to_numpy(float)]
    return np.interp(steps["step"].to_numpy(float), ends, np.r_[0, history["epoch"]])


def _plot_loss(ax: Axes, history: pd.DataFrame, steps: pd.DataFrame | None) -> None:
    if steps is not None and "loss" in steps:
        x = _epoch_of_step(history, steps)
        ax.plot(x, steps["loss"], color=PALETTE[0], alpha=0.25, lw=0.8, label="train (step)")
    if "train_loss" in history:
        ax.plot(history["epoch"], history["train_loss"], "o-", color=PALETTE[0], label="train")
    if "val_loss" in history and history["val_loss"].notna().any():
        val = history.dropna(subset=["val_loss"])
        ax.plot(val["epoch"], val["val_loss"], "s-", color=PALETTE[1], label="validation")
    values = pd.concat([history.get(c, pd.Series(dtype=float)) for c in ("train_loss", "val_loss")])
    values = values.dropna()
    if len(values) and values.min() > 0 and values.max() / values.min() > 20:
        ax.set_yscale("log")  # a loss falling by orders of magnitude
    ax.set_title("Loss")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)


def _plot_metrics(ax: Axes, history: pd.DataFrame, metrics: list[str]) -> None:
    for colour, name in zip(PALETTE, metrics, strict=False):
        rows = history.dropna(subset=[name])
        ax.plot(rows["epoch"], rows[name], "o-", color=colour, label=name, ms=4)
    ax.set_title("Validation metrics")
    ax.set_ylabel("value")
    ax.legend(fontsize=8)


def _plot_lr(ax: Axes, history: pd.DataFrame, steps: pd.DataFrame | None) -> None:
    if steps is not None and "lr" in steps:
        ax.plot(_epoch_of_step(history, steps), steps["lr"], color=PALETTE[2], lw=1.5)
    elif "lr" in history:
        ax.plot(history["epoch"], history["lr"], "o-", color=PALETTE[2])
    ax.set_title("Learning rate")
    ax.set_ylabel("learning rate")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))


def _mark_best(ax: Axes, best: tuple[str, int | None, float | None]) -> None:
    monitor, epoch, value = best
    if epoch is None:
        return
    label = f"best epoch {epoch} ({monitor} = {value:.4g})" if value is not None else None
    ax.axvline(epoch, color="#555555", ls="--", lw=1.0, label=label)
