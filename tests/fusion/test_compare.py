"""compare_fusion: the table, the baselines, grouped folds, the robustness conditions."""

from __future__ import annotations

import inspect
from typing import Any, get_type_hints

import numpy as np
import pandas as pd
import pytest

from medmodal.data.synthetic import MultimodalDataset, make_multimodal_classification
from medmodal.errors import InvalidParameterError
from medmodal.fusion import compare_fusion, run_comparison
from medmodal.fusion.compare import ComparisonOptions, fold_splits, robustness_table
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
    folds = fold_splits(y, 5, groups=groups, seed=0)
    assert len(folds) == 5
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
        assert abs(y[test].mean() - 0.5) < 0.2  # stratified
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(len(y)))  # each sample tested once


def test_fold_splits_are_the_comparisons_folds(notebook: MultimodalDataset) -> None:
    result = run_comparison(
        notebook.X, notebook.y, methods=["early"], cv=3, seed=4, n_boot=0, params=FAST,
        baselines=False,
    )  # fmt: skip
    for f, (_, test) in enumerate(fold_splits(notebook.y, 3, seed=4)):
        assert result.folds is not None and (result.folds[test] == f).all()


def test_fold_splits_take_a_splitter_and_reject_bad_input() -> None:
    from sklearn.model_selection import GroupKFold

    y, groups = np.tile([0, 1], 10), np.repeat(np.arange(5), 4)
    ours = fold_splits(y, GroupKFold(5), groups=groups)
    theirs = list(GroupKFold(5).split(groups, groups=groups))
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    with pytest.raises(InvalidParameterError, match="fold_splits: cv"):
        fold_splits(y, 1)
    with pytest.raises(InvalidParameterError, match="fold_splits: groups"):
        fold_splits(y, 2, groups=groups[:3])


def test_intervals_only_for_the_asked_conditions(notebook: MultimodalDataset) -> None:
    result = run_comparison(
        notebook.X, notebook.y, methods=["early"], cv=2, missing="each", n_boot=0,
        params=FAST, baselines=False,
    )  # fmt: skip
    assert result.table["auroc_low"].isna().all()  # n_boot=0: no intervals yet
    table = result.with_intervals(50, seed=1)
    full = table["condition"] == "all"
    assert (table.loc[full, "auroc_low"] <= table.loc[full, "auroc"]).all()
    assert (table.loc[full, "auroc"] <= table.loc[full, "auroc_high"]).all()
    assert table.loc[~full, "auroc_low"].isna().all()
    assert result.table["auroc_low"].isna().all()  # the result itself is unchanged
    again = result.with_intervals(50, seed=1, conditions=["all", "without image"])
    pd.testing.assert_frame_equal(again[full], table[full])
    assert again.loc[again["condition"] == "without image", "auroc_low"].notna().all()
    robust = robustness_table(table)
    assert list(robust.columns) == ["AUROC all", "AUROC without clinical", "AUROC without image"]
    assert robust.loc["early", "AUROC all"] == pytest.approx(
        float(table.loc[full, "auroc"].iloc[0])
    )


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


def test_robustness_table_is_method_by_condition() -> None:
    rows = []
    for method, auc in (("early", 0.9), ("late", 0.7), ("unimodal:a", 0.6)):
        for cond, drop in (("without a", 0.2), ("all", 0.0), ("without b", 0.1)):
            rows.append({"method": method, "condition": cond, "auroc": auc - drop, "brier": drop})
    robust = robustness_table(pd.DataFrame(rows))
    assert list(robust.index) == ["early", "late", "unimodal:a"]
    assert list(robust.columns) == ["AUROC all", "AUROC without a", "AUROC without b"]
    assert robust.loc["late", "AUROC without a"] == pytest.approx(0.5)
    brier = robustness_table(pd.DataFrame(rows), metric="brier")
    assert brier.loc["early", "brier without b"] == pytest.approx(0.1)


def test_compare_fusion_options_are_exactly_run_comparisons_keywords() -> None:
    hints = get_type_hints(run_comparison)
    keywords = {
        name: hints[name]
        for name, p in inspect.signature(run_comparison).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    options = get_type_hints(ComparisonOptions)
    assert list(options) == list(keywords)
    assert options == keywords


def test_compare_fusion_is_the_table_of_run_comparison(notebook: MultimodalDataset) -> None:
    kwargs: dict[str, Any] = {"methods": ["early"], "cv": 2, "n_boot": 10, "params": FAST}
    table = compare_fusion(notebook.X, notebook.y, **kwargs, baselines=False)
    result = run_comparison(notebook.X, notebook.y, **kwargs, baselines=False)
    pd.testing.assert_frame_equal(table, result.table)
