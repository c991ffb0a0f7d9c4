"""Tests of medmodal.ecg.rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.ecg.rate import available_interpolations, ecg_rate
from medmodal.errors import InvalidParameterError, MedmodalError


def test_per_beat_rate_matches_intervals() -> None:
    fs = 250.0
    rr = np.array([1.0, 0.5, 0.8, 1.2])
    peaks = np.concatenate([[100], 100 + np.cumsum(rr * fs)]).astype(int)
    hr = ecg_rate(peaks, fs)
    np.testing.assert_allclose(hr, [60.0, 60.0, 120.0, 75.0, 50.0])


def test_constant_rate_is_constant_for_every_interpolation() -> None:
    peaks = np.arange(50, 5000, 300)  # 300 samples at 360 Hz = 72 bpm
    for method in available_interpolations():
        hr = ecg_rate(peaks, 360, desired_length=5100, interpolation=method)
        assert hr.shape == (5100,)
        np.testing.assert_allclose(hr, 72.0)


@pytest.mark.parametrize("method", ["linear", "nearest", "step", "pchip"])
def test_interpolation_passes_through_beats_and_stays_bounded(method: str) -> None:
    rng = np.random.default_rng(5)
    peaks = np.cumsum(rng.integers(150, 400, size=40)) + 20
    per_beat = ecg_rate(peaks, 360)
    hr = ecg_rate(peaks, 360, desired_length=int(peaks[-1]) + 100, interpolation=method)
    np.testing.assert_allclose(hr[peaks], per_beat)
    # No overshoot: every method stays within the per-beat range.
    assert per_beat.min() - 1e-9 <= hr.min()
    assert hr.max() <= per_beat.max() + 1e-9
    # Edges hold the first/last beat rate.
    np.testing.assert_allclose(hr[: peaks[0]], per_beat[0])
    np.testing.assert_allclose(hr[peaks[-1] :], per_beat[-1])


def test_linear_is_linear_between_beats() -> None:
    hr = ecg_rate([0, 60, 90], 60, desired_length=91)  # 60 bpm then 120 bpm
    np.testing.assert_allclose(hr[60:91], np.linspace(60, 120, 31))


def test_step_gives_each_sample_its_interval_rate() -> None:
    hr = ecg_rate([10, 20, 25], 10, desired_length=30, interpolation="interval")
    assert (hr[11:21] == 60).all()
    assert (hr[21:26] == 120).all()


def test_float_whole_peaks_accepted() -> None:
    np.testing.assert_allclose(ecg_rate([0.0, 100.0, 200.0], 100), 60.0)


@pytest.mark.parametrize(
    ("peaks", "kwargs", "match"),
    [
        ([5], {}, "at least 2"),
        ([], {}, "at least 2"),
        ([[1, 2], [3, 4]], {}, "1-D"),
        ([1, 5, 3], {}, "strictly increasing"),
        ([1, 5, 5], {}, "strictly increasing"),
        ([-1, 5], {}, "non-negative"),
        ([1.5, 5], {}, "whole"),
        ([1, np.nan], {}, "whole"),
        (["a", "b"], {}, "dtype"),
        ([True, False], {}, "dtype"),
        ([1, 2, 3], {"desired_length": 3}, "outside"),
        ([1, 2, 3], {"desired_length": 0}, "desired_length"),
        ([1, 2, 3], {"desired_length": 2.5}, "desired_length"),
        ([1, 2, 3], {"desired_length": True}, "desired_length"),
        ([1, 2, 3], {"interpolation": "cubicc"}, "Available"),
    ],
)
def test_bad_input_raises_with_the_problem_named(peaks, kwargs, match) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ecg_rate(peaks, 100, **kwargs)


@pytest.mark.parametrize("rate", [0, -5, float("nan"), float("inf"), "360", None, True])
def test_bad_sampling_rate(rate) -> None:
    with pytest.raises(InvalidParameterError, match="sampling_rate"):
        ecg_rate([1, 2, 3], rate)


@settings(max_examples=150, deadline=None)
@given(
    peaks=hnp.arrays(
        dtype=st.sampled_from([np.int64, np.int32, np.uint16, np.float64]),
        shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=30),
    ),
    rate=st.floats(allow_nan=True, allow_infinity=True),
    length=st.one_of(st.none(), st.integers(-5, 5000)),
    method=st.sampled_from(available_interpolations()),
)
def test_property_result_or_medmodal_error(peaks, rate, length, method) -> None:
    try:
        hr = ecg_rate(peaks, rate, desired_length=length, interpolation=method)
    except MedmodalError:
        return
    assert hr.shape == ((length,) if length is not None else (peaks.size,))
    # The default hides implausible rates (NaN); every rate shown lies in 20-300 bpm.
    shown = hr[~np.isnan(hr)]
    assert ((shown >= 20) & (shown <= 300)).all()
    every = ecg_rate(peaks, rate, desired_length=length, interpolation=method, limits=None)
    assert (every > 0).all()


@settings(max_examples=100, deadline=None)
@given(
    intervals=st.lists(st.integers(1, 10_000), min_size=1, max_size=50),
    start=st.integers(0, 1000),
    fs=st.floats(1, 10_000),
)
def test_property_valid_peaks_give_exact_rates(intervals, start, fs) -> None:
    peaks = start + np.concatenate([[0], np.cumsum(intervals)])
    hr = ecg_rate(peaks, fs, limits=None)
    np.testing.assert_allclose(hr[1:], 60 * fs / np.asarray(intervals, dtype=float))
    assert hr[0] == hr[1]
    shown = ecg_rate(peaks, fs)  # the default hides rates outside 20-300 bpm
    inside = (hr >= 20) & (hr <= 300)
    np.testing.assert_array_equal(shown[inside], hr[inside])
    assert np.isnan(shown[~inside]).all()


@settings(max_examples=100, deadline=None)
@given(
    intervals=st.lists(st.integers(1, 2000), min_size=1, max_size=50),
    fs=st.sampled_from([100.0, 250.0, 360.0, 1000.0]),
    length_pad=st.integers(1, 500),
    method=st.sampled_from(["linear", "nearest", "step", "pchip"]),
)
def test_property_no_interpolated_rate_outside_20_300(intervals, fs, length_pad, method) -> None:
    peaks = np.concatenate([[0], np.cumsum(intervals)])
    hr = ecg_rate(peaks, fs, desired_length=int(peaks[-1]) + length_pad, interpolation=method)
    finite = hr[np.isfinite(hr)]
    assert ((finite >= 20 - 1e-9) & (finite <= 300 + 1e-9)).all()
    per_beat = 60 * fs / np.asarray(intervals, dtype=float)
    if not ((per_beat >= 20) & (per_beat <= 300)).any():
        assert np.isnan(hr).all()


def test_double_detection_is_bridged_when_interpolated() -> None:
    peaks = np.array([0, 360, 380, 720, 1080])  # 20 samples at 360 Hz: 1080 bpm
    hr = ecg_rate(peaks, 360, desired_length=1100)
    assert np.isnan(ecg_rate(peaks, 360)[2])
    assert hr.max() <= 360 / (720 - 380) * 60 + 1e-9  # the fragment after it, not 1080


@pytest.mark.parametrize("limits", [(300, 20), (-1, 20), (np.nan, 300), "low", (1, 2, 3)])
def test_bad_limits_name_the_parameter(limits: object) -> None:
    with pytest.raises(InvalidParameterError, match="limits"):
        ecg_rate([0, 250, 500], 250, limits=limits)  # type: ignore[arg-type]
