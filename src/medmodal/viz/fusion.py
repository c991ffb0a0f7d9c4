"""Fusion figures: the comparison table as bars with CI whiskers, ROC curves, robustness.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or saved).

Example:
    >>> from medmodal.data.synthetic import make_multimodal_classification
    >>> from medmodal.fusion import run_comparison
    >>> from medmodal.viz.fusion import plot_comparison
    >>> d = make_multimodal_classification(120, seed=0)
    >>> res = run_comparison(d.X, d.y, methods=["early"], cv=2, n_boot=20,
    ...                      params={"epochs": 2, "hidden": 8, "verbose": False})
    >>> fig = plot_comparison(res.table, metrics=("auroc",))
    >>> fig.axes[0].get_xlabel()
    'AUROC'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from medmodal.errors import InvalidParameterError
from medmodal.fusion.compare import ALL, FusionComparison

#: Okabe-Ito colours for fusion methods; unimodal baselines are shades of grey.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
BASELINES = ("#8c8c8c", "#4d4d4d", "#b8b8b8", "#6e6e6e")
#: Axis labels of the metrics.
LABELS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "macro_f1": "macro-F1",
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "brier": "Brier score (lower is better)",
    "ece": "ECE (lower is better)",
}


def _colors(methods: Sequence[str]) -> dict[str, str]:
    fused = [m for m in methods if not m.startswith("unimodal:")]
    colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(fused)}
    uni = [m for m in methods if m.startswith("unimodal:")]
    colors.update({m: BASELINES[i % len(BASELINES)] for i, m in enumerate(uni)})
    return colors


def _check(table: pd.DataFrame, metrics: Sequence[str], where: str) -> None:
    need = {"method", "condition", *metrics, *(f"{m}_low" for m in metrics)}
    missing = sorted(need - set(table.columns))
    if missing:
        raise InvalidParameterError(f"{where}: the table lacks columns {missing}")


def plot_comparison(
    table: pd.DataFrame,
    *,
    metrics: Sequence[str] = ("auroc", "balanced_accuracy", "brier"),
    condition: str = ALL,
    title: str = "Fusion methods compared (out-of-fold, 95 % bootstrap CI)",
) -> Figure:
    """Horizontal bars per method (one panel per metric) with CI whiskers.

    Args:
        table: the :func:`~medmodal.fusion.compare.compare_fusion` table.
        metrics: metric columns to show.
        condition: which test condition's rows (``"all"`` or ``"without <modality>"``).
        title: figure title.
    """
    _check(table, metrics, "plot_comparison")
    rows = table[table["condition"] == condition]
    if rows.empty:
        raise InvalidParameterError(
            f"plot_comparison: no rows for condition {condition!r}; "
            f"have {sorted(set(table['condition']))}"
        )
    methods = rows["method"].tolist()
    colors = _colors(methods)
    fig = Figure(figsize=(4.2 * len(metrics), 0.45 * len(methods) + 1.6), layout="constrained")
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    y = np.arange(len(methods))[::-1]
    for ax, m in zip(axes, metrics, strict=True):
        value = rows[m].to_numpy(float)
        err = np.vstack([value - rows[f"{m}_low"], rows[f"{m}_high"] - value])
        ax.barh(y, value, color=[colors[k] for k in methods], alpha=0.85, height=0.7)
        ax.errorbar(value, y, xerr=np.nan_to_num(np.abs(err)), fmt="none", ecolor="black",
                    capsize=3, lw=1)  # fmt: skip
        tips = np.fmax(value, rows[f"{m}_high"].to_numpy(float))
        for yi, v, tip in zip(y, value, tips, strict=True):
            ax.text(tip, yi, f"  {v:.3f}", va="center", ha="left", fontsize=8)
        ax.set_xlabel(LABELS.get(m, m))
        lo = float(np.nanmin(rows[f"{m}_low"])) if m in ("auroc", "auprc") else 0.0
        ax.set_xlim(max(0.0, min(lo, 0.5) - 0.05), _upper(rows, m))
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, methods)
    fig.suptitle(title if condition == ALL else f"{title}: {condition}")
    return fig


def _upper(rows: pd.DataFrame, m: str) -> float:
    top = float(np.nanmax(rows[f"{m}_high"])) if f"{m}_high" in rows else 1.0
    return max(1.0, top) * 1.08 if m not in ("brier", "ece") else max(top, 1e-3) * 1.25


def plot_roc_curves(
    comparison: FusionComparison,
    *,
    condition: str = ALL,
    methods: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Out-of-fold ROC curves of every method (micro-averaged one-vs-rest for K > 2).

    Args:
        comparison: a :func:`~medmodal.fusion.compare.run_comparison` result.
        condition: the test condition to draw.
        methods: subset of methods (default: all of the condition).
        title: figure title.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    keys = [k for k in comparison.predictions if k[1] == condition]
    if methods is not None:
        keys = [k for k in keys if k[0] in methods]
    if not keys:
        raise InvalidParameterError(f"plot_roc_curves: no predictions for {condition!r}")
    colors = _colors([k[0] for k in keys])
    fig = Figure(figsize=(6.2, 5.6), layout="constrained")
    ax: Axes = fig.subplots()
    ax.plot([0, 1], [0, 1], ls=":", color="black", lw=1, label="chance")
    for key in keys:
        truth, score = _binary_view(comparison, comparison.predictions[key])
        ok = np.isfinite(score)
        fpr, tpr, _ = roc_curve(truth[ok], score[ok])
        auc = roc_auc_score(truth[ok], score[ok])
        style = "--" if key[0].startswith("unimodal:") else "-"
        ax.plot(fpr, tpr, style, color=colors[key[0]], lw=1.6, label=f"{key[0]} (AUC {auc:.3f})")
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    averaged = comparison.multilabel or len(comparison.classes) > 2
    suffix = " (micro-averaged one-vs-rest)" if averaged else ""
    ax.set_title(title or f"ROC curves, out-of-fold, condition {condition!r}{suffix}")
    return fig


def _binary_view(comparison: FusionComparison, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positive-class scores, or every (sample, class) pair flattened (micro average)."""
    if comparison.multilabel:
        return comparison.y.ravel(), proba.ravel()
    if proba.shape[1] == 2:
        return comparison.y, proba[:, 1]
    onehot = np.eye(proba.shape[1])[comparison.y]
    return onehot.ravel(), proba.ravel()


def plot_robustness(
    table: pd.DataFrame,
    *,
    metric: str = "auroc",
    title: str = "Robustness to a missing modality at test time",
) -> Figure:
    """Grouped bars: per method, the metric with all modalities and with each one removed.

    Args:
        table: a comparison table run with ``missing=``.
        metric: the metric to show.
        title: figure title.
    """
    _check(table, [metric], "plot_robustness")
    conditions = list(dict.fromkeys(table["condition"]))
    methods = list(dict.fromkeys(table["method"]))
    fig = Figure(figsize=(max(7.0, 1.1 * len(methods) + 2), 4.8), layout="constrained")
    ax: Axes = fig.subplots()
    width = 0.8 / len(conditions)
    shades = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9")
    x = np.arange(len(methods))
    for j, cond in enumerate(conditions):
        rows = table[table["condition"] == cond].set_index("method").reindex(methods)
        value = rows[metric].to_numpy(float)
        err = np.vstack([value - rows[f"{metric}_low"], rows[f"{metric}_high"] - value])
        pos = x - 0.4 + width * (j + 0.5)
        ax.bar(pos, value, width, color=shades[j % len(shades)], label=cond, alpha=0.9)
        ax.errorbar(pos, value, yerr=np.nan_to_num(np.abs(err)), fmt="none", ecolor="black",
                    capsize=2, lw=0.8)  # fmt: skip
    ax.set_xticks(x, methods, rotation=25, ha="right")
    ax.set_ylabel(LABELS.get(metric, metric))
    if metric in ("auroc", "auprc"):
        ax.axhline(0.5, ls=":", color="black", lw=1)
        ax.set_ylim(0.4, 1.02)
    ax.legend(title="test condition", fontsize=8, ncols=min(len(conditions), 3))
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title)
    return fig
