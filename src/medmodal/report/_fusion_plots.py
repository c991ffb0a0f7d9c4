"""Figures of the fusion section: scores with CIs, ROC curves, robustness."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _colours(methods: pd.Series) -> list[str]:
    return ["0.6" if str(m).startswith("unimodal") else "tab:blue" for m in methods]


def plot_scores(main: pd.DataFrame) -> Figure:
    """Horizontal bars of AUROC and balanced accuracy with 95 % CI whiskers."""
    fig = Figure(figsize=(10, 0.45 * len(main) + 1.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(main))
    for ax, metric, label in zip(
        axes, ("auroc", "balanced_accuracy"), ("AUROC", "balanced accuracy"), strict=True
    ):
        values = main[metric].to_numpy()
        err = np.vstack([values - main[f"{metric}_low"], main[f"{metric}_high"] - values])
        ax.barh(y, values, xerr=err, color=_colours(main["method"]), capsize=3)
        ax.axvline(0.5, color="black", lw=0.8, ls="--")
        ax.set_xlim(0.4, 1.0)
        ax.set(xlabel=f"{label} (95 % CI)", title=label)
        for yi, v in zip(y, values, strict=True):
            ax.text(0.405, yi, f"{v:.2f}", va="center", fontsize=8, color="white")
    axes[0].set_yticks(y, main["method"])
    axes[0].invert_yaxis()
    fig.suptitle("Fusion strategies on the same folds (dashed: chance)")
    return fig


def plot_roc(result: Any) -> Figure:
    """Out-of-fold ROC curve of every method (binary target, all modalities present)."""
    from sklearn.metrics import roc_curve

    fig = Figure(figsize=(6, 5.2), layout="constrained")
    ax = fig.subplots()
    y = np.asarray(result.y).ravel()
    for (method, condition), proba in result.predictions.items():
        if condition != "all":
            continue
        fpr, tpr, _ = roc_curve(y, proba[:, -1])
        baseline = method.startswith("unimodal")
        ax.plot(fpr, tpr, lw=1.4, label=method, ls="--" if baseline else "-",
                color="0.5" if baseline else None)  # fmt: skip
    ax.plot([0, 1], [0, 1], color="black", lw=0.6, ls=":")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (out of fold)")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_robustness(robust: pd.DataFrame) -> Figure:
    """Grouped bars: AUROC per method and test-time condition."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(robust))
    width = 0.8 / robust.shape[1]
    for i, column in enumerate(robust.columns):
        ax.bar(x + (i - (robust.shape[1] - 1) / 2) * width, robust[column], width, label=column)
    ax.axhline(0.5, color="black", lw=0.8, ls="--")
    ax.set_xticks(x, robust.index, rotation=20, ha="right")
    ax.set_ylim(0.4, 1.0)
    ax.set(ylabel="AUROC", title="Robustness to a missing modality at test time")
    ax.legend(fontsize=8)
    return fig
