"""Simulated ECG-report pairs: reports name the rhythm and rate; the cohort is seeded."""

from __future__ import annotations

import re

import numpy as np
import pytest

from medmodal.data.rhythm_reports import RHYTHMS, paired_cohort, zero_shot_classes
from medmodal.errors import InvalidParameterError

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


def test_zero_shot_classes_are_never_training_captions() -> None:
    classes = zero_shot_classes()
    assert list(classes) == list(RHYTHMS)
    captions = {t.lower() for _, templates, _ in RHYTHMS.values() for t in templates}
    assert not any(d in captions for descriptions in classes.values() for d in descriptions)
    with pytest.raises(InvalidParameterError, match="paired_cohort: n=0"):
        paired_cohort(0)
