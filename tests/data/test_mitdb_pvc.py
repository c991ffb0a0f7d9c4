"""MIT-BIH windows with and without PVCs: disjoint patients, annotated PVC positions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medmodal.data.mitdb_pvc import TEST_RECORDS, TRAIN_RECORDS, mitdb_pvc_cohort


def test_attention_patients_are_disjoint() -> None:
    assert not set(TRAIN_RECORDS) & set(TEST_RECORDS)


@pytest.mark.data
def test_mitdb_windows_carry_their_annotated_pvcs(mitdb_dir: Path) -> None:
    cohort, owner = mitdb_pvc_cohort(["119", "100"], root=mitdb_dir.parent, per_class=3, seed=0)
    assert cohort.X["ecg"].shape[1:] == (1, 1000) and cohort.X["clinical"].shape[1] == 2
    # 119 has windows with and without PVCs; 100 has one PVC in 30 minutes
    assert (owner == "119").sum() == 6 and cohort.y[owner == "119"].tolist() == [1, 1, 1, 0, 0, 0]
    assert owner.tolist()[:6] == ["119"] * 6  # records in the order asked
    for label, peaks in zip(cohort.y, cohort.pvc_peaks, strict=True):
        assert (peaks.size > 0) == bool(label)
        assert np.all((peaks >= 0) & (peaks < 1000))
    # a PVC is a large deflection: the cleaned trace peaks near every annotated one
    ecg = cohort.X["ecg"][:, 0]
    for signal, peaks in zip(ecg, cohort.pvc_peaks, strict=True):
        for r in peaks:
            near = np.abs(signal[max(r - 10, 0) : r + 10]).max()
            assert near > 2 * np.median(np.abs(signal)), r
    # the header's age and sex, one row per window
    ages = cohort.X["clinical"][:, 0]
    assert len(set(ages[owner == "119"].tolist())) == 1
