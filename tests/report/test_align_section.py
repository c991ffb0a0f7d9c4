"""The alignment section: the simulated ECG-report cohort and a quick training run."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from medmodal.report.align_section import RHYTHMS, build, paired_cohort
from medmodal.report.section import SectionContext

_WORDS = {
    "sinus": "sinus",
    "tachycardia": "tachycardia|fast",
    "bradycardia": "bradycardia|slow",
    "afib": "atrial fibrillation|af ",
    "pvc": "ventricular|pvc",
}


def test_reports_name_the_rhythm_and_rate_they_were_simulated_with() -> None:
    cohort = paired_cohort(25, seed=2)
    assert cohort.signals.shape == (25, 1, 1000)
    assert cohort.rhythms[:5] == list(RHYTHMS)
    for text, rhythm, rate in zip(cohort.texts, cohort.rhythms, cohort.heart_rates, strict=True):
        assert re.search(_WORDS[rhythm], text.lower()), text
        assert str(int(rate)) in text
        low, high = RHYTHMS[rhythm][0]
        assert low <= rate <= high


def test_cohort_is_seeded() -> None:
    a, b, c = paired_cohort(6, seed=1), paired_cohort(6, seed=1), paired_cohort(6, seed=2)
    np.testing.assert_array_equal(a.signals, b.signals)
    assert a.texts == b.texts
    assert not np.array_equal(a.signals, c.signals)


@pytest.mark.slow
def test_quick_training_beats_chance(tmp_path: Path) -> None:
    content = build(SectionContext(tmp_path, quick=True, progress=False))
    retrieval = content.metrics["retrieval"]
    assert retrieval["a_to_b_R@5"] > 3 * 5 / retrieval["n"]
    assert content.metrics["zero_shot_accuracy"] > 0.4  # chance 0.2
    names = [f.path.name for f in content.figures]
    assert names == ["training_curves.png", "similarity.png", "projection.png"]
