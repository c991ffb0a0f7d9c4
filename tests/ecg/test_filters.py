"""Tests of the zero-phase filters (ecg/_filters.py, ecg/_blockfilter.py) and the fast
paths behind the detectors and the powerline check: each against the scipy call it
replaces."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.ndimage import rank_filter

from medmodal.ecg._blockfilter import BLOCK, _state_space, block_plan
from medmodal.ecg._cleaners._base import filter_sections
from medmodal.ecg._detectors._common import (
    feature_peaks,
    local_maxima,
    nearest_median,
    running_rank,
    sorted_union,
)
from medmodal.ecg._filters import MIN_BLOCKS, butter_sos, zero_phase
from medmodal.ecg.powerline import _summed_welch

# (low, high, powerline, rate, order): the default, minimal and median cleaners and the
# two detectors' band-passes, at the rates the benchmarks use.
FILTERS = [
    (0.5, 40.0, 60.0, 360.0, 2),
    (0.5, 40.0, None, 360.0, 2),
    (0.5, 40.0, 50.0, 128.0, 2),
    (0.5, None, 50.0, 1000.0, 2),
    (None, 35.0, 50.0, 500.0, 4),
    (5.0, 20.0, None, 120.0, 1),
    (5.0, 15.0, None, 100.0, 2),
]


def _walk(n: int, seed: int) -> np.ndarray:
    """A wandering signal with a large offset: the hard case for a 0.5 Hz high-pass."""
    rng = np.random.default_rng(seed)
    return 50.0 + np.cumsum(rng.normal(size=n)) * 0.05 + rng.normal(size=n)


def _detrended(x: np.ndarray) -> np.ndarray:
    t = np.arange(x.size) - (x.size - 1) / 2.0
    return x - x.mean() - (t @ x) / (t @ t) * t


@pytest.mark.parametrize(("low", "high", "line", "fs", "order"), FILTERS)
@pytest.mark.parametrize("detrend", [False, True])
def test_block_filtering_matches_sosfiltfilt(
    low: float | None, high: float | None, line: float | None, fs: float, order: int, detrend: bool
) -> None:
    sos = filter_sections(low, high, line, fs, order)
    pad = round(fs)
    x = _walk(int(60 * fs) + 7, seed=order)  # long enough for blocks, not a whole number
    assert x.size + 2 * pad >= MIN_BLOCKS * BLOCK and block_plan(sos.tobytes()) is not None
    ours = zero_phase(sos, x, pad=pad, detrend=detrend)
    reference = scipy.signal.sosfiltfilt(sos, _detrended(x) if detrend else x, padlen=pad)
    assert np.abs(ours - reference).max() <= 1e-10 * np.abs(reference).max()


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1500, 6000),
    pad=st.integers(32, 400),
    seed=st.integers(0, 2**16),
    which=st.sampled_from(range(len(FILTERS))),
)
def test_property_zero_phase_equals_sosfiltfilt_on_both_paths(
    n: int, pad: int, seed: int, which: int
) -> None:
    # Lengths around MIN_BLOCKS * BLOCK: some run block-wise, some sample by sample.
    low, high, line, fs, order = FILTERS[which]
    sos = filter_sections(low, high, line, fs, order)
    x = _walk(n, seed)
    ours = zero_phase(sos, x, pad=pad)
    reference = scipy.signal.sosfiltfilt(sos, x, padlen=min(pad, n - 1))
    assert ours.shape == x.shape and ours.flags.c_contiguous
    assert np.abs(ours - reference).max() <= 1e-10 * np.abs(reference).max()


def test_state_space_runs_one_step_as_scipy_does() -> None:
    sos = filter_sections(0.5, 40.0, 60.0, 360.0, 2)
    a, b, c, d = _state_space(sos)
    rng = np.random.default_rng(0)
    state, sample = rng.normal(size=(3, 2)), rng.normal()
    out, after = scipy.signal.sosfilt(sos, [sample], zi=state)
    assert c @ state.ravel() + d * sample == pytest.approx(out[0], abs=1e-14)
    assert np.allclose(a @ state.ravel() + b * sample, after.ravel(), atol=1e-14)


def test_block_plan_refuses_a_filter_it_cannot_reproduce() -> None:
    integrator = np.array([[1.0, 0.0, 0.0, 1.0, -1.0, 0.0]])  # a pole on the unit circle
    assert block_plan(integrator.tobytes()) is None
    # Two equal real poles: the eigenvectors are (nearly) parallel, the modal form is
    # ill-conditioned, and the plan is refused rather than trusted.
    repeated = np.array([[1.0, 0.0, 0.0, 1.0, -1.8, 0.81]])
    assert block_plan(repeated.tobytes()) is None
    assert block_plan(butter_sos(0.5, 40.0, 360.0, 2).tobytes()) is not None


@settings(max_examples=200, deadline=None)
@given(x=hnp.arrays(np.float64, st.integers(1, 40), elements=st.sampled_from([0.0, 1.0, 2.0])))
def test_property_local_maxima_and_feature_peaks_match_find_peaks(x: np.ndarray) -> None:
    # Few distinct values: many flat tops, the case find_peaks resolves by their middle.
    padded = np.concatenate([[-1.0], x, [-1.0]])  # both ends lower, as feature_peaks means
    assert local_maxima(x).tolist() == (scipy.signal.find_peaks(padded)[0] - 1).tolist()
    for distance in (1, 2, 5):
        expected = scipy.signal.find_peaks(padded, distance=distance)[0] - 1
        assert feature_peaks(x, distance).tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(
    values=st.one_of(
        hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-5, 5)),
        hnp.arrays(np.int64, st.integers(1, 60), elements=st.integers(0, 4)),
    ),
    data=st.data(),
)
def test_property_running_rank_is_scipys_rank_filter(values: np.ndarray, data) -> None:
    size = data.draw(st.integers(1, values.size))
    rank = data.draw(st.integers(0, size - 1))
    expected = rank_filter(values, rank=rank, size=size, mode="nearest")
    got = running_rank(values, rank, size)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_nearest_median_shortcuts_give_the_searchsorted_answer() -> None:
    rng = np.random.default_rng(3)
    cands = np.sort(rng.choice(100_000, 600, replace=False))
    amp = rng.random(cands.size)
    beat = rng.random(cands.size) < 0.4
    for mask in (beat, ~beat):
        plain = nearest_median(cands[mask], amp[mask], cands, 8)
        before = np.cumsum(mask) - mask
        assert np.array_equal(nearest_median(cands[mask], amp[mask], None, 8, before=before), plain)
    own = cands[beat]
    assert np.array_equal(
        nearest_median(own, amp[beat], None, 8), nearest_median(own, amp[beat], own, 8)
    )
    assert sorted_union(np.array([1, 5, 9]), np.array([2, 5, 12])).tolist() == [1, 2, 5, 9, 12]
    assert sorted_union(np.array([], np.int64), np.array([], np.int64)).size == 0


@pytest.mark.parametrize(
    ("fs", "n", "leads", "nperseg"),
    [(360, 43_200, 1, 1440), (250, 5001, 3, 1000), (100, 1233, 2, 401)],
)
def test_summed_welch_is_scipys_welch_summed_over_leads(
    fs: float, n: int, leads: int, nperseg: int
) -> None:
    x = np.random.default_rng(4).normal(size=(n, leads)) + 3.0
    freqs, psd = scipy.signal.welch(x - x.mean(axis=0), fs=fs, nperseg=nperseg, axis=0)
    ours_f, ours = _summed_welch(x, fs, nperseg)
    assert np.allclose(ours_f, freqs)
    assert np.allclose(ours, psd.sum(axis=1), rtol=1e-10, atol=0)
