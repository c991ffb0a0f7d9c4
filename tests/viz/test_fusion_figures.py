"""Fusion figures: bars with CI whiskers, ROC curves, robustness bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from medmodal.data.synthetic import make_multimodal_classification
from medmodal.errors import InvalidParameterError
from medmodal.fusion import FusionComparison, run_comparison
from medmodal.viz.fusion import plot_comparison, plot_robustness, plot_roc_curves

FAST = {"epochs": 8, "hidden": 8, "batch_size": 32, "verbose": False, "num_threads": 1}


@pytest.fixture(scope="module")
def comparison() -> FusionComparison:
    d = make_multimodal_classification(200, seed=0)
    return run_comparison(
        d.X, d.y, methods=["early", "late"], cv=2, missing="each", n_boot=50, params=FAST
    )


def _save(fig: Figure, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 5_000  # a real picture, not an empty canvas
    return path


def test_comparison_bars_have_one_bar_and_whisker_per_method(
    comparison: FusionComparison, tmp_path: Path
) -> None:
    fig = plot_comparison(comparison.table, metrics=("auroc", "brier"))
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert ax.get_xlabel() == "AUROC"
    assert len(ax.patches) == 4  # early, late, 2 unimodal baselines
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["early", "late", "unimodal:clinical", "unimodal:image"]  # top to bottom
    assert ax.collections  # the error bars
    assert fig.get_suptitle().startswith("Fusion methods compared")
    _save(fig, tmp_path, "bars.png")


def test_roc_curves_one_line_per_method(comparison: FusionComparison, tmp_path: Path) -> None:
    fig = plot_roc_curves(comparison)
    ax = fig.axes[0]
    assert len(ax.lines) == 1 + 4  # chance + methods
    assert "AUC" in ax.get_legend().get_texts()[1].get_text()
    assert ax.get_xlabel().startswith("false positive rate")
    _save(fig, tmp_path, "roc.png")
    sub = plot_roc_curves(comparison, condition="without image", methods=["early"])
    assert len(sub.axes[0].lines) == 2


def test_robustness_bars_per_condition(comparison: FusionComparison, tmp_path: Path) -> None:
    fig = plot_robustness(comparison.table)
    ax = fig.axes[0]
    assert len(ax.patches) == 4 * 3  # methods x conditions
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "all", "without clinical", "without image",
    ]  # fmt: skip
    heights = np.array([p.get_height() for p in ax.patches])
    assert ((heights > 0.3) & (heights <= 1.0)).all()
    _save(fig, tmp_path, "robustness.png")


def test_bad_requests_are_named(comparison: FusionComparison) -> None:
    with pytest.raises(InvalidParameterError, match="no rows for condition"):
        plot_comparison(comparison.table, condition="without ct")
    with pytest.raises(InvalidParameterError, match="lacks columns"):
        plot_robustness(comparison.table, metric="kappa")
    with pytest.raises(InvalidParameterError, match="no predictions"):
        plot_roc_curves(comparison, methods=["gated"])
