"""The simulated PVC cohort: alternating labels, known PVC positions, seeded."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.data.synthetic_pvc import FS, make_pvc_cohort
from medmodal.errors import InvalidParameterError


def test_cohort_alternates_sinus_and_pvc_records() -> None:
    cohort = make_pvc_cohort(30, seed=3)
    assert cohort.X["ecg"].shape == (30, 1, int(10 * FS))
    assert cohort.X["ecg"].dtype == np.float32
    assert cohort.X["clinical"].shape == (30, 2)
    assert cohort.y.tolist() == [0, 1] * 15
    assert all(len(p) == 0 for p in cohort.pvc_peaks[0::2])
    assert all(len(p) >= 1 for p in cohort.pvc_peaks[1::2])
    again = make_pvc_cohort(4, seed=3)
    np.testing.assert_array_equal(cohort.X["ecg"][:4], again.X["ecg"])


def test_pvc_peaks_sit_on_tall_beats_and_settings_apply() -> None:
    cohort = make_pvc_cohort(6, seed=0, ectopic_rate=0.4, age_shift=0.0)
    for ecg, peaks in zip(cohort.X["ecg"][1::2, 0], cohort.pvc_peaks[1::2], strict=True):
        assert peaks.min() >= 0 and peaks.max() < ecg.size
        # a PVC's QRS is wide and large: its window holds more than the median beat's energy
        window = [np.ptp(ecg[max(0, p - 10) : p + 10]) for p in peaks]
        assert np.median(window) > 0.5 * np.ptp(ecg)
    age = make_pvc_cohort(40, seed=1, age_shift=30.0).X["clinical"][:, 0]
    assert age[1::2].mean() - age[0::2].mean() == pytest.approx(30.0, abs=8.0)
    with pytest.raises(InvalidParameterError, match="ectopic_rate"):
        make_pvc_cohort(2, ectopic_rate=1.5)
    with pytest.raises(InvalidParameterError, match="positive int"):
        make_pvc_cohort(0)
