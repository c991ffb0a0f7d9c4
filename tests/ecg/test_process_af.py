"""AF in ecg_process: ECGResult.af, the summary's atrial_fibrillation block, rhythm_name,
and no PR inside AF (issue 14)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from medmodal.ecg import ecg_af, ecg_simulate_annotated
from medmodal.ecg.intervals import ecg_intervals
from medmodal.ecg.process import ECGResult, ecg_process


@pytest.fixture(scope="module")
def af_record() -> ECGResult:
    sim = ecg_simulate_annotated(120, 250, rhythm="afib", seed=2)
    return ecg_process(sim.signal, 250)


@pytest.fixture(scope="module")
def sinus_record() -> ECGResult:
    sim = ecg_simulate_annotated(60, 250, heart_rate=70, seed=0)
    return ecg_process(sim.signal, 250)


def test_af_record_summary_names_af(af_record: ECGResult) -> None:
    s = af_record.summary()
    block = s["atrial_fibrillation"]
    assert block["label"] == "atrial fibrillation" and block["overall"] == "af"
    assert block["burden_pct"] > 90 and block["n_episodes"] == len(block["episodes"]) >= 1
    assert block["used_p_waves"] and block["method"] == "irregularity"
    assert block["reason"] == ""
    assert s["rhythm"] == "irregular" and s["rhythm_name"] == "atrial fibrillation"


def test_pr_withheld_in_af_with_reason(af_record: ECGResult) -> None:
    iv = af_record.summary()["intervals"]
    assert iv["pr_ms"] is None and iv["pr_n_beats"] == 0
    assert "atrial fibrillation" in iv["pr_withheld"]
    assert af_record.beats_frame()["pr_ms"].isna().all()


def test_sinus_record_reports_no_af_and_keeps_pr(sinus_record: ECGResult) -> None:
    s = sinus_record.summary()
    block = s["atrial_fibrillation"]
    assert block["label"] == "none" and block["burden_pct"] == 0.0
    assert block["n_episodes"] == 0 and block["episodes"] == []
    assert s["rhythm_name"] == s["rhythm"] == "sinus"
    assert s["intervals"]["pr_ms"] is not None and s["intervals"]["pr_withheld"] == ""


def test_af_uses_the_delineation_p_waves(af_record: ECGResult) -> None:
    """ecg_process's AF equals ecg_af on the same peaks and cleaned signal, P waves used."""
    af = af_record.af
    assert af is not None and af.used_p_waves
    direct = ecg_af(af_record.peaks, 250, signal=af_record.cleaned)
    assert direct.label == af.label
    np.testing.assert_allclose(direct.episode_start_s, af.episode_start_s)


def test_ecg_intervals_af_windows_remove_pr_only_there(sinus_record: ECGResult) -> None:
    """Marking the first half of a sinus record as AF blanks PR only in those beats."""
    af, d, old = sinus_record.af, sinus_record.delineation, sinus_record.intervals
    assert af is not None and d is not None and old is not None
    half = len(af.label) // 2
    labels = tuple("af" if i < half else lab for i, lab in enumerate(af.label))
    fake = replace(af, label=labels)
    iv = ecg_intervals(d, sinus_record.rr_intervals, sinus_record.rhythm, af=fake)
    base = old.beats["pr_ms"]
    times = sinus_record.peaks / 250
    in_af = times < af.end_s[half - 1]
    assert iv.beats["pr_ms"][in_af].isna().all()
    np.testing.assert_array_equal(iv.beats["pr_ms"][~in_af], base[~in_af])
    assert "atrial fibrillation" in iv.pr_note


def test_short_record_af_unknown_with_reason() -> None:
    sim = ecg_simulate_annotated(6, 250, heart_rate=70, seed=0)
    block = ecg_process(sim.signal, 250).summary()["atrial_fibrillation"]
    assert block["label"] == "unknown" and "too few beats" in block["reason"]


def test_hand_built_result_gets_rr_only_af(sinus_record: ECGResult) -> None:
    rebuilt = replace(sinus_record, af=None)
    assert rebuilt.af is not None and not rebuilt.af.used_p_waves
    assert rebuilt.summary()["atrial_fibrillation"]["label"] == "none"


def test_resampled_record_keeps_af() -> None:
    sim = ecg_simulate_annotated(120, 250, rhythm="afib", seed=2)
    up = np.repeat(sim.signal, 8, axis=0)  # 2 kHz: analysed at the analysis rate
    result = ecg_process(up, 2000)
    assert result.af is not None and result.af.overall == "af"
    assert result.summary()["intervals"]["pr_ms"] is None


@pytest.mark.data
def test_mitdb_203_pr_withheld_for_af(mitdb_dir: Path) -> None:
    from medmodal.io import read_record

    rec = read_record(mitdb_dir / "203")
    n = 120 * 360
    s = ecg_process(rec.signal[:n], rec.sampling_rate).summary()
    assert s["atrial_fibrillation"]["label"] == "atrial fibrillation"
    assert "atrial fibrillation" in s["intervals"]["pr_withheld"]


def test_af_record_rr_intervals_are_af_not_ectopic(af_record: ECGResult) -> None:
    """Issue 14: inside AF the intervals are irregular because of AF, not "ectopic or
    artefact"; min/max heart rate is over them, and HRV says it is not interpretable."""
    hr = af_record.summary()["heart_rate"]
    assert hr["n_af"] >= 0.9 * hr["n_intervals"]
    assert hr["flagged"]["ectopic_or_artefact"] <= 0.05 * hr["n_intervals"]
    assert hr["min_max_over"] == "NN intervals and the intervals in atrial fibrillation"
    assert "in atrial fibrillation" in hr["note"]
    flags = af_record.beats_frame()["rr_flag"]
    assert (flags == "af").sum() == hr["n_af"]
    rates = af_record.rr_intervals.rate_bpm[np.asarray(af_record.rr_intervals.flag) == "af"]
    assert hr["min_bpm"] == pytest.approx(rates.min()) and hr["max_bpm"] >= rates.max()
    assert af_record.hrv is not None
    assert "atrial fibrillation" in af_record.hrv.notes[0]
    assert "not interpretable" in af_record.hrv.notes[0]


def test_sinus_record_has_no_af_intervals(sinus_record: ECGResult) -> None:
    hr = sinus_record.summary()["heart_rate"]
    assert hr["n_af"] == 0 and hr["min_max_over"] == "NN intervals"
    assert "af" not in set(sinus_record.beats_frame()["rr_flag"])
