"""Tests of medmodal.ecg.intervals: which PR, QRS and QT may be reported, and on which lead."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from medmodal.ecg.delineate import ecg_delineate
from medmodal.ecg.intervals import choose_interval_lead, ecg_intervals
from medmodal.ecg.process import ecg_process
from medmodal.ecg.rhythm import ecg_rhythm
from medmodal.ecg.rr import ecg_rr
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.ecg.validation import load_delineation_validation
from medmodal.errors import InvalidParameterError

FS = 250


def _parts(rhythm: str = "sinus", seconds: float = 40, seed: int = 0):  # type: ignore[no-untyped-def]
    sim = ecg_simulate_annotated(seconds, FS, heart_rate=70, rhythm=rhythm, seed=seed)
    d = ecg_delineate(sim.signal, FS, peaks=sim.r_peaks)
    n = np.asarray(sim.signal).shape[0]
    return d, ecg_rr(sim.r_peaks, FS), ecg_rhythm(sim.r_peaks, FS, n_samples=n)


def test_sinus_gives_pr_and_qrs_and_withholds_qt() -> None:
    d, rr, rhythm = _parts()
    summary = ecg_intervals(d, rr, rhythm, lead_name="II", lead_reason="test").summary()
    assert 120 <= summary["pr_ms"] <= 220 and summary["pr_withheld"] == ""
    assert summary["pr_n_beats"] >= 0.9 * summary["n_dominant"]
    assert 70 <= summary["qrs_ms"] <= 130
    assert summary["qt_ms"] is None and summary["qtc_bazett_ms"] is None
    assert summary["qt_withheld"].startswith("QT withheld: T-offset error")
    assert summary["lead"] == "II" and summary["lead_reason"] == "test"
    assert set(summary["qtc_formulas"]) == {"bazett", "fridericia"}


def test_qt_and_both_qtc_are_reported_when_the_validation_passes(
    passing_validation: Callable[..., Path],
) -> None:
    d, rr, rhythm = _parts()
    figures = load_delineation_validation(passing_validation())
    iv = ecg_intervals(d, rr, rhythm, validation=figures)
    summary = iv.summary()
    assert summary["qt_withheld"] == ""
    assert 320 <= summary["qt_ms"] <= 460
    rr_s = 60 / 70
    assert summary["qtc_bazett_ms"] == pytest.approx(summary["qt_ms"] / rr_s**0.5, rel=0.03)
    assert summary["qtc_fridericia_ms"] == pytest.approx(
        summary["qt_ms"] / rr_s ** (1 / 3), rel=0.03
    )
    assert summary["qt_n_beats"] >= 0.9 * summary["n_dominant"]


def test_qt_reported_through_ecg_process_when_a_passing_file_is_shipped(
    monkeypatch: pytest.MonkeyPatch, passing_validation: Callable[..., Path]
) -> None:
    from medmodal.ecg import validation

    sim = ecg_simulate_annotated(30, FS, heart_rate=65, seed=2)
    withheld = ecg_process(sim.signal, FS).summary()["intervals"]
    assert withheld["qt_ms"] is None and withheld["qt_withheld"]
    monkeypatch.setattr(validation, "VALIDATION_FILE", passing_validation())
    res = ecg_process(sim.signal, FS)
    reported = res.summary()["intervals"]
    assert reported["qt_withheld"] == "" and 320 <= reported["qt_ms"] <= 480
    assert np.isfinite(res.beats_frame()["qtc_fridericia_ms"]).sum() > 20


def test_atrial_fibrillation_withholds_pr() -> None:
    d, rr, rhythm = _parts("afib", seconds=60, seed=3)
    assert rhythm.overall == "irregular"
    iv = ecg_intervals(d, rr, rhythm)
    assert iv.summary()["pr_ms"] is None
    assert iv.pr_withheld.startswith("PR withheld")
    assert np.isnan(iv.beats["pr_ms"]).all()


def test_ectopic_beats_are_left_out() -> None:
    sim = ecg_simulate_annotated(60, FS, heart_rate=70, rhythm="pvc", seed=4)
    d = ecg_delineate(sim.signal, FS, peaks=sim.r_peaks)
    rr = ecg_rr(sim.r_peaks, FS)
    iv = ecg_intervals(d, rr, ecg_rhythm(sim.r_peaks, FS, n_samples=len(sim.signal)))
    labels = np.array(sim.beat_labels)
    counted = np.isfinite(iv.beats["qrs_ms"].to_numpy())
    assert not counted[labels == "V"].any()  # premature ventricular beats end short intervals
    assert counted[labels == "N"].mean() > 0.5


def test_no_rhythm_withholds_pr_and_mismatched_beats_raise() -> None:
    d, rr, _ = _parts(seconds=20)
    assert "rhythm is unknown" in ecg_intervals(d, rr).pr_withheld
    with pytest.raises(InvalidParameterError, match="same R peaks"):
        ecg_intervals(d, ecg_rr(rr.peaks[1:], FS))


def test_choose_interval_lead() -> None:
    twelve = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    assert choose_interval_lead(twelve, list(range(12)))[0] == 1
    assert choose_interval_lead(twelve, [0, 2, 7])[0] is None  # lead II flat: no preference
    assert choose_interval_lead(["ii", "v5"], [0, 1])[0] == 0
    assert choose_interval_lead(["MLII", "V1"], [0, 1]) == (None, "")
    assert choose_interval_lead(["V5"], [0]) == (0, "V5: the only lead analysed")


def test_leads_delineated_together_are_named_and_gated_as_such(
    passing_validation: Callable[..., Path],
) -> None:
    sim = ecg_simulate_annotated(40, FS, heart_rate=70, n_leads=2, seed=5)
    d = ecg_delineate(sim.signal, FS, peaks=sim.r_peaks, leads="all")
    n = np.asarray(sim.signal).shape[0]
    rr, rhythm = ecg_rr(sim.r_peaks, FS), ecg_rhythm(sim.r_peaks, FS, n_samples=n)
    only_one = load_delineation_validation(passing_validation(conventions=("lead0",)))
    iv = ecg_intervals(d, rr, rhythm, validation=only_one)
    assert iv.lead == "lead0+lead1"
    assert "both leads together" in iv.qt_withheld
    both = load_delineation_validation(passing_validation())
    assert ecg_intervals(d, rr, rhythm, validation=both).qt_withheld == ""
