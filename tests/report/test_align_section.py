"""The alignment section on the simulated ECG-report cohort: a quick training run."""

from __future__ import annotations

from pathlib import Path

import pytest

from medmodal.report.align_section import build
from medmodal.report.section import SectionContext


@pytest.mark.slow
def test_quick_training_beats_chance(tmp_path: Path) -> None:
    content = build(SectionContext(tmp_path, quick=True, progress=False))
    retrieval = content.metrics["retrieval"]
    assert retrieval["a_to_b_R@5"] > 3 * 5 / retrieval["n"]
    assert content.metrics["zero_shot_accuracy"] > 0.4  # chance 0.2
    names = [f.path.name for f in content.figures]
    assert names == ["training_curves.png", "similarity.png", "projection.png"]
