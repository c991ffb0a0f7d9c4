"""Tests of medmodal.ecg.hrv: analytic cases, artefact removal, NeuroKit2 cross-check."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.ecg.hrv import HRV, available_methods, ecg_hrv, nn_mask
from medmodal.errors import InvalidParameterError, MedmodalError

FS = 1000.0
BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")


def _peaks_from_rr(rr_s: np.ndarray, fs: float = FS) -> np.ndarray:
    return np.round(np.concatenate([[0.5], 0.5 + np.cumsum(rr_s)]) * fs).astype(np.int64)


def _modulated_rr(tones: list[tuple[float, float]], seconds: float = 600.0) -> np.ndarray:
    """RR intervals (s) whose value at beat time t is 0.8 s + sum A sin(2 pi f t) (A in ms)."""
    rr, t = [], 0.0
    while t < seconds:
        value = 0.8 + sum(a / 1000 * np.sin(2 * np.pi * f * t) for f, a in tones)
        t += value
        rr.append(value)
    return np.asarray(rr)


@pytest.mark.parametrize("method", available_methods())
@pytest.mark.parametrize(("freq", "band"), [(0.1, "lf"), (0.25, "hf")])
def test_sinusoidal_modulation_lands_in_its_band(method: str, freq: float, band: str) -> None:
    amplitude = 40.0  # ms
    hrv = ecg_hrv(_peaks_from_rr(_modulated_rr([(freq, amplitude)])), FS, method=method)
    inside = hrv.lf_ms2 if band == "lf" else hrv.hf_ms2
    outside = hrv.hf_ms2 if band == "lf" else hrv.lf_ms2
    assert inside == pytest.approx(amplitude**2 / 2, rel=0.1)  # a sine's power is A²/2
    assert outside < 0.02 * inside
    assert (hrv.lf_hf > 50) if band == "lf" else (hrv.lf_hf < 0.02)
    assert hrv.n_removed == 0


@pytest.mark.parametrize("method", available_methods())
def test_two_tones_per_band_sum_their_powers(method: str) -> None:
    tones = [(0.06, 20.0), (0.12, 30.0), (0.2, 25.0), (0.33, 15.0)]
    hrv = ecg_hrv(_peaks_from_rr(_modulated_rr(tones, 900.0)), FS, method=method)
    assert hrv.lf_ms2 == pytest.approx((20**2 + 30**2) / 2, rel=0.1)
    assert hrv.hf_ms2 == pytest.approx((25**2 + 15**2) / 2, rel=0.1)
    assert hrv.lf_nu + hrv.hf_nu == pytest.approx(100.0)


def test_known_time_domain_values() -> None:
    rr = np.tile([0.8, 0.9], 50)  # alternating 800/900 ms: every difference is 100 ms
    hrv = ecg_hrv(_peaks_from_rr(rr), FS, artifact_threshold=None)
    assert hrv.mean_nn_ms == pytest.approx(850.0)
    assert hrv.sdnn_ms == pytest.approx(np.std(rr * 1000, ddof=1))
    assert hrv.rmssd_ms == pytest.approx(100.0)
    assert hrv.sdsd_ms == pytest.approx(np.std(np.diff(rr) * 1000, ddof=1))
    assert hrv.pnn50_pct == pytest.approx(100.0 * 99 / 100)  # NN50 / number of NN
    assert not hasattr(hrv, "mean_hr_bpm")  # one mean heart rate: ecg.rr's, not HRV's
    assert hrv.sd1_ms == pytest.approx(np.sqrt(0.5) * hrv.sdsd_ms)
    assert hrv.n_beats == 101
    assert hrv.n_intervals == 100


def test_metronome_has_zero_variability() -> None:
    hrv = ecg_hrv(np.arange(0, 400_000, 750), FS)
    assert hrv.sdnn_ms == 0.0
    assert hrv.rmssd_ms == 0.0
    assert hrv.pnn50_pct == 0.0
    assert hrv.lf_ms2 == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(hrv.lf_hf)  # 0 / 0


def test_ectopic_beats_are_removed_and_counted() -> None:
    rng = np.random.default_rng(7)
    rr = 0.8 + rng.normal(0, 0.02, size=600)
    clean = ecg_hrv(_peaks_from_rr(rr), FS)
    for i in range(50, 600, 60):  # a premature beat with a full compensatory pause
        rr[i], rr[i + 1] = 0.5, 1.1
    hrv = ecg_hrv(_peaks_from_rr(rr), FS)
    raw = ecg_hrv(_peaks_from_rr(rr), FS, artifact_threshold=None)
    assert hrv.n_removed == 20  # 10 ectopics x 2 intervals
    assert any("20 of 600" in note for note in hrv.notes)
    assert hrv.sdnn_ms == pytest.approx(clean.sdnn_ms, rel=0.05)
    assert hrv.rmssd_ms == pytest.approx(clean.rmssd_ms, rel=0.1)
    assert raw.sdnn_ms > 2 * hrv.sdnn_ms
    assert hrv.nn_ms.size == 580
    assert hrv.nn_times_s.shape == hrv.nn_ms.shape


def test_nn_mask_bounds_and_threshold() -> None:
    rr = np.array([0.8] * 5 + [0.1, 3.5] + [0.8] * 5)
    keep = nn_mask(rr)
    # The interval before the too-short one is the other piece of a split interval.
    assert keep.tolist() == [True] * 4 + [False, False, False] + [True] * 5
    rr = np.array([0.8] * 5 + [3.5] + [0.8] * 5)
    assert nn_mask(rr).tolist() == [True] * 5 + [False] + [True] * 5
    assert nn_mask(rr, artifact_threshold=None).all()
    rr = np.full(20, 0.8)
    rr[10] = 0.9  # 12.5 % off: kept at 20 %, removed at 10 %
    assert nn_mask(rr)[10]
    assert not nn_mask(rr, artifact_threshold=0.1)[10]


def test_short_recordings_give_nan_with_notes() -> None:
    rr = np.full(40, 0.75)  # 30 s
    hrv = ecg_hrv(_peaks_from_rr(rr), FS)
    assert np.isnan(hrv.lf_ms2)
    assert np.isnan(hrv.hf_ms2)
    assert any("frequency measures need" in n for n in hrv.notes)
    assert np.isfinite(hrv.rmssd_ms)
    mid = ecg_hrv(_peaks_from_rr(_modulated_rr([(0.25, 30.0)], 90.0)), FS)
    assert np.isfinite(mid.hf_ms2)
    assert np.isnan(mid.lf_ms2)
    assert any("LF needs" in n for n in mid.notes)


def test_huge_gap_between_beats_skips_the_spectrum() -> None:
    rr = np.r_[np.full(200, 0.8), 1e9, np.full(200, 0.8)]  # 30 years between two runs
    hrv = ecg_hrv(_peaks_from_rr(rr), FS)
    assert hrv.n_removed == 1
    assert np.isnan(hrv.lf_ms2)
    assert any("spans" in note for note in hrv.notes)
    assert hrv.mean_nn_ms == pytest.approx(800.0)


def test_two_peaks_give_mean_only() -> None:
    hrv = ecg_hrv([100, 900], FS)
    assert hrv.mean_nn_ms == 800.0
    assert np.isnan(hrv.sdnn_ms)
    assert np.isnan(hrv.rmssd_ms)
    assert len(hrv.notes) >= 3


def test_to_frame_and_to_dict() -> None:
    hrv = ecg_hrv(_peaks_from_rr(_modulated_rr([(0.1, 20.0)], 200.0)), FS)
    frame = hrv.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.shape[0] == 1
    assert {"sdnn_ms", "rmssd_ms", "lf_ms2", "hf_ms2", "lf_hf", "notes"} <= set(frame.columns)
    assert "nn_ms" not in frame.columns
    assert hrv.to_dict()["sdnn_ms"] == hrv.sdnn_ms
    assert isinstance(hrv, HRV)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "welsh"}, "(?i)did you mean"),
        ({"artifact_threshold": 0}, "artifact_threshold"),
        ({"artifact_threshold": 1.5}, "artifact_threshold"),
        ({"artifact_threshold": "20%"}, "artifact_threshold"),
    ],
)
def test_bad_parameters(kwargs, match) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ecg_hrv([0, 800, 1600], FS, **kwargs)


@pytest.mark.parametrize(
    ("peaks", "match"), [([5], "at least 2"), ([5, 3], "increasing"), ([[1, 2]], "1-D")]
)
def test_bad_peaks(peaks, match) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ecg_hrv(peaks, FS)


@settings(max_examples=100, deadline=None)
@given(
    peaks=st.one_of(
        hnp.arrays(
            dtype=st.sampled_from([np.int64, np.float64, np.int8]),
            shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=40),
        ),
        st.lists(st.integers(1, 100_000), min_size=0, max_size=400).map(np.cumsum),
        # Long runs of normal beats separated by enormous gaps.
        st.lists(st.sampled_from([700, 800, 900, 10**12]), max_size=300).map(np.cumsum),
    ),
    rate=st.sampled_from([1.0, 128.0, 360.0, 1000.0, 0.0, np.nan]),
    method=st.sampled_from(available_methods()),
)
def test_property_result_or_medmodal_error(peaks, rate, method) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray numpy/scipy warnings either
        try:
            hrv = ecg_hrv(peaks, rate, method=method)
        except MedmodalError:
            return
    assert hrv.n_intervals == hrv.n_beats - 1
    assert 0 <= hrv.n_removed <= hrv.n_intervals
    for name in ("sdnn_ms", "rmssd_ms", "lf_ms2", "hf_ms2", "pnn50_pct"):
        value = getattr(hrv, name)
        assert np.isnan(value) or value >= 0


@pytest.mark.parametrize("record", ["100", "103"])
def test_time_domain_matches_neurokit2_on_mitdb(mitdb_dir, record: str) -> None:
    wfdb = pytest.importorskip("wfdb")
    nk = pytest.importorskip("neurokit2")
    ann = wfdb.rdann(str(mitdb_dir / record), "atr")
    peaks = np.array(
        [s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS]
    )
    ours = ecg_hrv(peaks, 360, artifact_threshold=None)  # the same intervals as NeuroKit2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nk.hrv_time(peaks, sampling_rate=360).iloc[0]
        freq = nk.hrv_frequency(peaks, sampling_rate=360).iloc[0]
    assert ours.mean_nn_ms == pytest.approx(theirs["HRV_MeanNN"], rel=1e-6)
    assert ours.sdnn_ms == pytest.approx(theirs["HRV_SDNN"], rel=1e-6)
    assert ours.rmssd_ms == pytest.approx(theirs["HRV_RMSSD"], rel=1e-6)
    # NeuroKit2 computes intervals in float ms, so differences of exactly 50 ms
    # (18 samples at 360 Hz) land on either side of the threshold: it counts them.
    diffs = np.abs(np.diff(np.diff(peaks))) * 1000.0 / 360
    at_least = 100 * np.count_nonzero(diffs >= 50 - 1e-9) / (peaks.size - 1)
    assert ours.pnn50_pct <= theirs["HRV_pNN50"] + 1e-9
    assert theirs["HRV_pNN50"] <= at_least + 1e-9
    # Spectra differ by method (NeuroKit2's absolute band powers exceed the RR variance);
    # the LF/HF balance agrees within 20 %.
    assert ours.lf_hf == pytest.approx(freq["HRV_LFHF"], rel=0.2)
    total = ours.lf_ms2 + ours.hf_ms2
    assert total < ours.sdnn_ms**2  # a proper PSD never holds more than the variance


def test_lomb_with_gaps_everywhere_gives_nan_bands_and_says_why() -> None:
    """Two beats per 10 minutes: no 5-min segment holds 4 intervals, so no spectrum."""
    fs = 100.0
    pairs = [(600 * k, 600 * k + 0.8) for k in range(8)]
    peaks = np.round(np.array(pairs).ravel() * fs).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hrv = ecg_hrv(peaks, fs, method="lomb", artifact_threshold=None)
    assert np.isnan(hrv.lf_ms2) and np.isnan(hrv.hf_ms2)
    assert any("dense enough" in note for note in hrv.notes)


def test_lomb_on_five_beats_101_samples_apart_at_1_hz_is_nan_with_a_note() -> None:
    """Issue 13: this raised IndexError (an empty periodogram average)."""
    hrv = ecg_hrv(np.cumsum([101] * 5), 1, method="lomb", artifact_threshold=None)
    assert hrv.mean_nn_ms == 101_000.0 and hrv.sdnn_ms == 0.0
    assert np.isnan(hrv.lf_ms2) and np.isnan(hrv.hf_ms2) and hrv.notes


@pytest.mark.parametrize("rate", [1e-300, 0.5, 20_000.5, 1e300, np.inf, -360, 0])
def test_non_physical_sampling_rates_are_refused(rate: float) -> None:
    """Issue 13: 1e-300 Hz returned infinite intervals."""
    with pytest.raises(InvalidParameterError, match="ecg_hrv: sampling_rate must be"):
        ecg_hrv(np.arange(0, 3000, 3), rate)


@settings(max_examples=200, deadline=None)
@given(
    peaks=st.one_of(
        hnp.arrays(
            dtype=st.sampled_from([np.int64, np.uint64, np.float64, np.int16]),
            shape=st.integers(0, 60),
            elements={"allow_nan": True, "allow_infinity": True},
        ).map(np.sort),
        st.lists(st.integers(1, 2**55), min_size=0, max_size=200).map(np.cumsum),
        st.lists(st.integers(1, 5_000), min_size=0, max_size=400).map(np.cumsum),
    ),
    rate=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(1.0, 20_000.0),
        st.floats(0.0, 1e-200),  # tiny rates made infinite intervals
        st.sampled_from([1, 128, 360, 1000, 20_000]),
    ),
    method=st.sampled_from(available_methods()),
    threshold=st.sampled_from([None, 0.2, 0.05]),
)
def test_property_any_peaks_and_rate_give_finite_or_nan_values_or_a_medmodal_error(
    peaks, rate, method, threshold
) -> None:
    """Issue 13: nothing but MedmodalError escapes, and no value is ever infinite."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray numpy/scipy warnings either
        try:
            hrv = ecg_hrv(peaks, rate, method=method, artifact_threshold=threshold)
        except MedmodalError:
            return
    values = {f: v for f, v in hrv.to_dict().items() if isinstance(v, float)}
    assert not [f for f, v in values.items() if np.isinf(v)], values
    assert not np.isinf(hrv.nn_ms).any() and not np.isinf(hrv.nn_times_s).any()
