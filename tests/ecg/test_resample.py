"""Records above the analysis rate are analysed on a resampled copy (issue 13)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.signal import resample_poly

from medmodal.ecg.process import ecg_process
from medmodal.ecg.resample import ANALYSIS_RATE, MAX_DENOMINATOR, analysis_plan
from medmodal.ecg.simulate import ecg_simulate


@pytest.mark.parametrize("rate", [1000.5, 1024, 1500, 4000, 20_000, 44_100, 1_000_000])
def test_plan_brings_the_rate_to_the_analysis_rate_or_just_below(rate: float) -> None:
    plan = analysis_plan(rate)
    assert plan.resamples
    assert 0.5 * ANALYSIS_RATE < plan.analysis_rate <= ANALYSIS_RATE
    assert np.gcd(plan.up, plan.down) == 1
    assert plan.up <= MAX_DENOMINATOR or plan.up == 1


@pytest.mark.parametrize("rate", [100, 250, 360, 500, 1000])
def test_rates_up_to_the_analysis_rate_are_not_touched(rate: float) -> None:
    plan = analysis_plan(rate)
    assert (plan.up, plan.down, plan.analysis_rate) == (1, 1, float(rate))
    assert plan.note() == ""


def test_result_at_or_below_the_analysis_rate_says_no_resampling() -> None:
    result = ecg_process(ecg_simulate(10, 500, heart_rate=70, seed=3), 500)
    assert result.analysis_rate == 500.0
    assert result.notes == ()
    assert "analysis_rate_hz" not in result.summary()
    assert "notes" not in result.summary()


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, object, object]:
    """One 20 s record at 500 Hz and the same record upsampled to 20 kHz."""
    low = np.asarray(ecg_simulate(20, 500, heart_rate=72, noise=0.02, seed=5))
    high = resample_poly(low, 40, 1)
    return low, ecg_process(low, 500), ecg_process(high, 20_000)


def test_high_rate_gives_the_same_beats_in_the_callers_samples(pair) -> None:  # type: ignore[no-untyped-def]
    _, low, high = pair
    assert high.sampling_rate == 20_000.0
    assert high.analysis_rate == 1000.0
    assert high.peaks.size == low.peaks.size
    # Same beats, within 2 ms (the 500 Hz result's own resolution is 2 ms).
    assert np.abs(high.peaks / 20_000 - low.peaks / 500).max() <= 0.002
    assert high.raw.shape == high.cleaned.shape == (400_000, 1)
    assert high.rate_bpm.shape == (400_000,)
    summary = high.summary()
    assert summary["analysis_rate_hz"] == 1000.0
    assert "1000 Hz" in summary["notes"][0] and "20000 Hz" in summary["notes"][0]
    assert summary["heart_rate"]["mean_bpm"] == pytest.approx(
        low.summary()["heart_rate"]["mean_bpm"], abs=0.5
    )


def test_peaks_sit_on_the_extremum_at_the_callers_rate(pair) -> None:  # type: ignore[no-untyped-def]
    _, _, high = pair
    lead = np.abs(high.cleaned[:, high.peak_lead])
    for peak in high.peaks:
        window = lead[max(0, peak - 20) : peak + 21]
        assert lead[peak] == window.max()


def test_fiducials_are_in_the_callers_samples(pair) -> None:  # type: ignore[no-untyped-def]
    _, low, high = pair
    assert high.delineation is not None and low.delineation is not None
    assert high.delineation.sampling_rate == 20_000.0
    np.testing.assert_array_equal(high.delineation.r_peak, high.peaks)
    for name, points in high.delineation.points().items():
        found = points >= 0
        assert (points[found] < high.n_samples).all(), name
        ref = low.delineation.points()[name]
        both = found & (ref >= 0)
        if both.any():  # the same fiducial, within a few ms
            assert np.median(np.abs(points[both] / 20_000 - ref[both] / 500)) <= 0.006, name
    frame = high.beats_frame()
    assert len(frame) == high.peaks.size
    assert high.intervals is not None
    assert high.intervals.summary().keys() == low.intervals.summary().keys()  # type: ignore[union-attr]


def test_flat_lead_stays_flat_after_resampling() -> None:
    ecg = np.asarray(ecg_simulate(10, 4000, heart_rate=60, seed=1))
    signal = np.column_stack([ecg, np.full_like(ecg, 0.25)])
    with pytest.warns(Warning, match="flat"):
        result = ecg_process(signal, 4000)
    assert result.analysis_rate == 1000.0
    assert result.peak_lead == 0
    assert 8 <= result.peaks.size <= 12


def test_work_grows_with_duration_not_rate_squared() -> None:
    """20 kHz costs about what 1 kHz costs (plus the resampler), not 400 times more."""
    ecg = np.asarray(ecg_simulate(30, 1000, heart_rate=70, seed=2))
    start = time.perf_counter()
    ecg_process(ecg, 1000)
    base = time.perf_counter() - start
    high = resample_poly(ecg, 20, 1)
    start = time.perf_counter()
    ecg_process(high, 20_000)
    assert time.perf_counter() - start < 10 * base + 1.0
