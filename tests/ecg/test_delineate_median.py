"""The running median beat (``_delineators._template``) and the QRS end it serves."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.ecg._delineators._qrs import qrs_bounds
from medmodal.ecg._delineators._template import align_beats, median_beats
from medmodal.ecg.delineate import ecg_delineate
from medmodal.ecg.simulate import ecg_simulate_annotated

FS = 360


def _beats(n: int = 40, rr: int = 300, noise: float = 0.0, seed: int = 0) -> tuple:
    """A train of identical Gaussian QRS + T beats, with white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n * rr + rr)
    r = np.arange(rr // 2, n * rr, rr)
    x = np.zeros(t.size)
    for k in r:
        x += np.exp(-0.5 * ((t - k) / 4.0) ** 2) + 0.3 * np.exp(-0.5 * ((t - k - 100) / 20.0) ** 2)
    return x, x + noise * rng.standard_normal(t.size), r


def test_median_beat_removes_noise_and_keeps_the_waves() -> None:
    clean, noisy, r = _beats(noise=0.05)
    median = median_beats(noisy, r, FS)
    inside = slice(r[5] - 100, r[-5] + 100)
    before = np.std(noisy[inside] - clean[inside])
    after = np.std(median[inside] - clean[inside])
    assert after < 0.5 * before
    assert np.max(median[r]) > 0.9  # the QRS peaks keep their height


def test_atypical_beats_keep_their_own_waveform() -> None:
    _, x, r = _beats()
    odd = 20
    span = slice(r[odd] - 60, r[odd] + 60)
    x[span] = -x[span]  # an inverted (ventricular-like) complex
    median = median_beats(x, r, FS)
    np.testing.assert_array_equal(median[span], x[span])
    # ... and stays out of its neighbours' medians.
    near = slice(r[odd + 1] - 20, r[odd + 1] + 20)
    assert np.max(median[near]) > 0.9


def test_beats_are_aligned_before_the_median() -> None:
    _, x, r = _beats()
    jittered = r + np.tile([0, 2, -2, 1], r.size // 4 + 1)[: r.size]
    aligned, typical = align_beats(x, jittered, FS, 0.9)
    shift = aligned - r  # every beat lands at the same place on its QRS
    assert np.ptp(shift) == 0 and abs(shift[0]) <= 1
    assert typical.all()
    assert median_beats(x, r[:2], FS) is not x  # too few beats: an unchanged copy
    np.testing.assert_array_equal(median_beats(x, r[:2], FS), x)


def test_a_notch_far_from_the_baseline_does_not_end_the_qrs() -> None:
    """A slow S wave with a flat notch halfway up (a fragmented QRS): the QRS ends where
    the S wave is back at the isoelectric level, not at the notch."""
    rr, n = 300, 20
    t = np.arange(rr * n + rr)
    r = np.arange(rr // 2, n * rr, rr)
    x = np.zeros(t.size)
    for k in r:
        x += np.exp(-0.5 * ((t - k) / 4.0) ** 2)  # R
        s_wave = np.interp(t - k, [6, 12, 20, 30, 42, 56], [0, -0.6, -0.35, -0.35, 0, 0])
        x += np.where((t - k > 6) & (t - k < 56), s_wave, 0.0)
    rr_arr = np.full(r.size, rr)
    _, offset = qrs_bounds(x, FS, r, rr_arr, rr_arr)
    back = (offset - r) * 1000 / FS
    assert np.all(back >= 100)  # after the recovery (42 samples = 117 ms), not the notch


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_qrs_duration_is_steady_on_a_noisy_record(seed: int) -> None:
    """The simulator's QRS lasts the same in every beat; on single noisy beats its
    measured SD was 7-8 ms (median beat off), on the median beat it is about 5."""
    sim = ecg_simulate_annotated(60, 250, heart_rate=70, noise=0.2, seed=seed)
    d = ecg_delineate(sim.signal, 250, peaks=sim.r_peaks)
    assert np.nanstd(d.intervals()["qrs_ms"].to_numpy()) < 6.0
