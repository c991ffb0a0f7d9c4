"""The fusion section: its cohort, its tables and a quick comparison."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medmodal.report.fusion_section import MISSING_RATE, build, cohort, main_table
from medmodal.report.section import SectionContext


def _table() -> pd.DataFrame:
    rows = []
    for method, auc in (("early", 0.9), ("late", 0.7), ("unimodal:a", 0.6)):
        for cond, drop in (("all", 0.0), ("without a", 0.2), ("without b", 0.1)):
            row = {"method": method, "condition": cond, "brier": 0.1, "ece": 0.05}
            for metric in ("auroc", "balanced_accuracy", "macro_f1"):
                v = auc - drop
                row |= {metric: v, f"{metric}_low": v - 0.05, f"{metric}_high": v + 0.05}
            rows.append(row)
    return pd.DataFrame(rows)


def test_cohort_has_missing_modalities_and_both_classes() -> None:
    data = cohort(400, seed=1)
    assert data.X["clinical"].shape == (400, 5)
    missing = 1 - data.masks["image"].mean()
    assert missing == pytest.approx(MISSING_RATE, abs=0.05)
    assert np.isnan(data.X["image"][~data.masks["image"]]).all()
    assert 0.3 < data.y.mean() < 0.7


def test_main_table_shows_values_with_intervals() -> None:
    table = _table()
    main = main_table(table[table["condition"] == "all"])
    assert main.loc[0, "AUROC"] == "0.900 [0.850, 0.950]"
    assert list(main.columns) == [
        "method",
        "AUROC",
        "balanced accuracy",
        "macro-F1",
        "Brier",
        "ECE",
    ]


@pytest.mark.slow
def test_quick_comparison(tmp_path: Path) -> None:
    content = build(SectionContext(tmp_path, quick=True, progress=False))
    main = content.tables[0].frame
    assert set(main["method"]) == {
        "early",
        "late",
        "intermediate",
        "attention",
        "gated",
        "unimodal:clinical",
        "unimodal:image",
    }
    robust = content.tables[1].frame
    assert robust.loc["unimodal:image", "AUROC without image"] == pytest.approx(0.5, abs=0.05)
    assert len(content.figures) == 3
