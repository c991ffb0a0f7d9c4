"""compare_fusion: the table, the baselines, grouped folds, the robustness conditions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from medmodal.data.synthetic import MultimodalDataset, make_multimodal_classification
from medmodal.errors import InvalidParameterError
from medmodal.fusion import compare_fusion, run_comparison
from medmodal.fusion.compare import _splits
from medmodal.metrics.classification import METRICS

#: Tiny networks and few epochs: quick tests assert behaviour, not accuracy records.
FAST: dict[str, Any] = {
    "epochs": 4,
    "hidden": 8,
    "batch_size": 64,
    "verbose": False,
    "num_threads": 1,
}


def test_table_has_every_method_baseline_metric_and_ci(notebook: MultimodalDataset) -> None:
    table = compare_fusion(
        notebook.X, notebook.y, methods=["early", "late"], cv=3, n_boot=30, params=FAST
    )
    assert table["method"].tolist() == ["early", "late", "unimodal:clinical", "unimodal:image"]
    assert (table["condition"] == "all").all()
    for m in METRICS:
        assert (table[f"{m}_low"] <= table[f"{m}_high"]).all()
    # percentile intervals; ECE's resampling bias can push its interval above the estimate
    for m in ("accuracy", "balanced_accuracy", "auroc"):
        assert (table[f"{m}_low"] <= table[m] + 1e-12).all()
        assert (table[m] <= table[f"{m}_high"] + 1e-12).all()
    assert (table["n"] == 240).all()


def test_robustness_conditions_and_custom_labels(notebook: MultimodalDataset) -> None:
    result = run_comparison(
        notebook.X,
        notebook.y,
        methods={"late (stacking)": {"method": "late", "combiner": "stacking"}},
        cv=2,
        missing="each",
        n_boot=0,
        params=FAST,
    )
    t = result.table
    assert set(t["condition"]) == {"all", "without clinical", "without image"}
    assert len(t) == 3 * 3  # stacking + 2 baselines, 3 conditions each
    assert t["condition"].tolist()[:3] == ["all"] * 3  # full-data rows first
    # the image-only baseline without its image is at chance: no information left
    row = t[(t["method"] == "unimodal:image") & (t["condition"] == "without image")]
    assert float(row["auroc"].iloc[0]) == pytest.approx(0.5, abs=0.08)
    proba = result.predictions[("late (stacking)", "all")]
    assert proba.shape == (240, 2) and np.isfinite(proba).all()
    assert "| late (stacking) | all |" in result.to_markdown()


def test_grouped_folds_keep_patients_together() -> None:
    y = np.tile([0, 1], 60)
    groups = np.repeat(np.arange(30), 4)
    for train, test in _splits(5, y, False, groups, seed=0):
        assert not set(groups[train]) & set(groups[test])


def test_grouped_comparison_runs_and_bad_groups_fail(notebook: MultimodalDataset) -> None:
    groups = np.repeat(np.arange(60), 4)
    table = compare_fusion(
        notebook.X, notebook.y, methods=["intermediate"], cv=3, groups=groups, n_boot=20,
        params=FAST, baselines=False,
    )  # fmt: skip
    assert table["method"].tolist() == ["intermediate"]
    with pytest.raises(InvalidParameterError, match="groups"):
        compare_fusion(notebook.X, notebook.y, groups=np.arange(3), params=FAST)
    with pytest.raises(InvalidParameterError, match="missing="):
        compare_fusion(notebook.X, notebook.y, missing=["ct"], params=FAST)
    with pytest.raises(InvalidParameterError, match="unknown fusion method"):
        compare_fusion(notebook.X, notebook.y, methods=["erly"], params=FAST)


def test_multilabel_comparison(notebook: MultimodalDataset) -> None:
    Y = np.c_[notebook.y, notebook.X["image"][:, 0] > 0].astype(int)
    table = compare_fusion(
        notebook.X, Y, methods=["late"], cv=2, n_boot=10, params=FAST, baselines=False
    )
    assert 0.0 <= float(table["auroc"].iloc[0]) <= 1.0


def test_late_fusion_cannot_learn_a_cross_modal_xor() -> None:
    """With signal=0 the label is sign(a) XOR sign(b): late fusion stays at chance."""
    d = make_multimodal_classification(1200, signal=0.0, interaction=1.0, seed=0)
    kw = {**FAST, "epochs": 40, "hidden": 32, "batch_size": 64, "lr": 1e-2, "patience": 8}
    table = compare_fusion(
        d.X, d.y, methods=["late", "intermediate"], cv=2, n_boot=0, params=kw, baselines=False
    ).set_index("method")
    assert table.loc["late", "auroc"] < 0.6
    assert table.loc["intermediate", "auroc"] > 0.85
