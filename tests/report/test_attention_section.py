"""The attention section: the simulated PVC cohort and the enrichment measure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medmodal.report.attention_section import (
    FS,
    attention_enrichment,
    build,
    pvc_cohort,
)
from medmodal.report.section import SectionContext


def test_cohort_alternates_sinus_and_pvc_records() -> None:
    cohort = pvc_cohort(30, seed=3)
    assert cohort.X["ecg"].shape == (30, 1, 1000)
    assert cohort.X["ecg"].dtype == np.float32
    assert cohort.X["clinical"].shape == (30, 2)
    assert cohort.y.tolist() == [0, 1] * 15
    assert all(len(p) == 0 for p in cohort.pvc_peaks[0::2])
    assert all(len(p) >= 1 for p in cohort.pvc_peaks[1::2])
    again = pvc_cohort(4, seed=3)
    np.testing.assert_array_equal(cohort.X["ecg"][:4], again.X["ecg"])


def test_enrichment_is_one_for_uniform_attention() -> None:
    weights = np.full(50, 1 / 50)
    assert attention_enrichment(weights, np.array([300, 700]), 1000) == pytest.approx(1.0)


def test_enrichment_of_attention_on_the_pvc_tokens_only() -> None:
    weights = np.zeros(10)  # 10 tokens of 100 samples (1 s) each
    weights[3] = 1.0
    peak = int(3.5 * FS)  # PVC in the middle of token 3; +-150 ms stays inside it
    assert attention_enrichment(weights, np.array([peak]), 1000) == pytest.approx(10.0)
    assert attention_enrichment(weights, np.array([int(7.5 * FS)]), 1000) == 0.0


def test_enrichment_is_nan_without_pvcs() -> None:
    assert np.isnan(attention_enrichment(np.full(4, 0.25), np.array([], dtype=int), 1000))


@pytest.mark.slow
def test_quick_section_learns_and_draws(tmp_path: Path) -> None:
    content = build(SectionContext(tmp_path, quick=True, progress=False))
    assert content.metrics["accuracy"] > 0.8
    assert content.metrics["enrichment_mean"] > 1.0
    assert [f.path.name for f in content.figures] == [
        "attention_overlay.png",
        "attention_heads.png",
    ]
    assert all(f.path.stat().st_size > 20_000 for f in content.figures)
