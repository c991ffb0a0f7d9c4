"""The attention section: the simulated PVC cohort and the enrichment measure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medmodal.data.synthetic_pvc import FS
from medmodal.report.attention_section import attention_enrichment, build
from medmodal.report.section import SectionContext


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
