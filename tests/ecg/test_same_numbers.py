"""The faster paths of ``ecg_process`` give the same numbers as the plain ones.

Issue 17 made the per-record analysis cheaper without changing any output: the noise
index runs its beat templates for all leads at once, its running medians through one
1-D rank filter, and ``ecg_quality`` skips the costly indices of leads that cannot rank
above the leads before them. Each is checked here against a plain reference (scipy's
2-D median filter, lead by lead, every lead measured), exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import median_filter

from medmodal.ecg import _quality_sqi as sqi
from medmodal.ecg import _templates, quality
from medmodal.ecg._templates import WINDOW, residual, residuals
from medmodal.ecg._windows import window_bounds
from medmodal.ecg.process import ecg_process
from medmodal.ecg.simulate import ecg_simulate


def _reference_residual(
    x: np.ndarray, peaks: np.ndarray, rate: float, lags: tuple[int, ...]
) -> np.ndarray:
    """One lead, as before issue 17: scipy's 2-D median filter per lag and phase."""
    before, after = (round(s * rate) for s in WINDOW)
    inside = peaks[(peaks >= before) & (peaks + after < x.size)]
    if inside.size == 0:
        return x.copy()
    index = inside[:, None] + np.arange(-before, after)[None, :]
    windows = x[index] - np.median(x[index], axis=1, keepdims=True)

    def lagged(neighbours: int, lag: int) -> np.ndarray:
        out = np.empty_like(windows)
        for phase in range(lag):
            rows = slice(phase, None, lag)
            out[rows] = median_filter(windows[rows], size=(neighbours | 1, 1), mode="nearest")
        return out

    best = lagged(9, lags[0])
    error = np.sum((windows - best) ** 2, axis=1)
    for lag in lags[1:]:
        other = lagged(max(3, 9 // lag), lag)
        other_error = np.sum((windows - other) ** 2, axis=1)
        better = other_error < error
        best[better], error[better] = other[better], other_error[better]
    taper = np.ones(windows.shape[1])
    edge = max(1, round(_templates.TAPER * rate))
    ramp = np.hanning(2 * edge)
    taper[:edge], taper[-edge:] = ramp[:edge], ramp[edge:]
    return x - np.bincount(index.ravel(), weights=(best * taper).ravel(), minlength=x.size)


@pytest.mark.parametrize("size", [1, 3, 5, 9, 11])
@pytest.mark.parametrize("n_beats", [1, 2, 4, 15])
def test_running_median_is_scipys_median_filter(size: int, n_beats: int) -> None:
    rng = np.random.default_rng(size * 100 + n_beats)
    windows = rng.normal(size=(3, n_beats, 40))
    windows[:, :, 5] = 0.25  # ties
    got = _templates._running_median(windows, size)
    assert np.array_equal(got, median_filter(windows, size=(1, size, 1), mode="nearest"))


@pytest.mark.parametrize("rate", [100, 250, 360, 500])
@pytest.mark.parametrize("lags", [(1,), (1, 2, 3)])
def test_residuals_of_all_leads_equal_lead_by_lead(rate: int, lags: tuple[int, ...]) -> None:
    rng = np.random.default_rng(rate)
    n = 12 * rate
    x = rng.normal(size=(n, 5)) * np.array([1e-3, 1.0, 1.0, 30.0, 1e3])
    peaks = np.unique(rng.integers(0, n, 14))
    got = residuals(x, peaks, rate, lags=lags)
    for lead in range(x.shape[1]):
        want = _reference_residual(np.ascontiguousarray(x[:, lead]), peaks, rate, lags)
        assert np.array_equal(got[:, lead], want)
        assert np.array_equal(residual(x[:, lead], peaks, rate, lags=lags), want)


def test_residuals_without_whole_beats_return_the_signal() -> None:
    x = np.random.default_rng(0).normal(size=(300, 2))
    assert np.array_equal(residuals(x, np.array([5, 290]), 250.0), x)


def test_snr_of_all_leads_equals_lead_by_lead() -> None:
    rate = 500.0
    ecg = ecg_simulate(30, rate, n_leads=4, noise=0.05, seed=3)
    result = ecg_process(ecg, rate, beat_model=None, delineate=False)
    starts, stops = window_bounds(ecg.shape[0], rate, 10.0, func="test")
    together = sqi.snr_sqi_leads(result.cleaned, result.peaks, rate, starts, stops)
    assert together.shape == (4, starts.size) and np.isfinite(together).all()
    for lead in range(4):
        alone = sqi.snr_sqi(result.cleaned[:, lead], result.peaks, rate, starts, stops)
        assert np.array_equal(together[lead], alone)


def test_top_rank_is_the_highest_grade() -> None:
    n = 2
    optimal = {
        "psqi": np.full(n, 0.6),
        "bassqi": np.full(n, 0.99),
        "ksqi": np.full(n, 10.0),
        "tsqi": np.full(n, 0.99),
        "bsqi": np.full(n, 1.0),
        "snr_db": np.full(n, 30.0),
        "flat": np.zeros(n),
    }
    rank, labels, _ = quality._grade(optimal, np.full(n, 70.0), np.full(n, 0.9), np.full(n, 8))
    assert labels == ["excellent"] * n
    assert np.array_equal(rank, np.full(n, quality.TOP_RANK))


def test_rank_bound_is_never_below_the_grade() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    ev = {
        "psqi": rng.uniform(0.2, 0.9, n),
        "bassqi": rng.uniform(0.85, 1.0, n),
        "ksqi": rng.uniform(2.0, 8.0, n),
        "tsqi": rng.uniform(0.5, 1.0, n),
        "bsqi": rng.uniform(0.4, 1.0, n),
        "snr_db": rng.uniform(-5.0, 30.0, n),
        "flat": (rng.uniform(size=n) < 0.02).astype(float),
    }
    ev["tsqi"][rng.uniform(size=n) < 0.05] = np.nan
    hr = rng.uniform(30.0, 200.0, n)
    gaps, counts = rng.uniform(0.3, 4.0, n), rng.integers(0, 20, n)
    rank, _, _ = quality._grade(ev, hr, gaps, counts)
    cheap = {k: ev[k] for k in ("psqi", "bassqi", "ksqi", "tsqi", "flat")}
    bound = quality._rank_bound(cheap, hr)
    assert (rank <= bound).all()
    assert (rank == bound).any()  # and it is reached


@pytest.mark.filterwarnings("ignore:ecg_quality. lead.s. .2. are flat")
@pytest.mark.parametrize(("noise", "seed"), [(0.01, 0), (0.3, 1), (1.0, 2)])
def test_quality_stops_early_without_changing_the_result(
    noise: float, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate = 250.0
    ecg = ecg_simulate(25, rate, n_leads=6, noise=noise, seed=seed)
    ecg[:, 2] = 0.0  # a flat lead among them
    if noise >= 0.1:  # lead 0 the worst: a later lead must win
        ecg[:, 0] += np.random.default_rng(seed).normal(0.0, 1.0, ecg.shape[0])
    measured: list[int] = []  # leads whose costly indices were taken
    costly_evidence = quality._costly_evidence

    def counting(*args: object, **kwargs: object) -> dict[str, np.ndarray]:
        measured.append(1)
        return costly_evidence(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(quality, "_costly_evidence", counting)
    fast = quality.ecg_quality(ecg, rate)
    n_fast = len(measured)
    monkeypatch.setattr(quality, "TOP_RANK", np.inf)  # never stop: every lead measured
    monkeypatch.setattr(quality, "_rank_bound", lambda cheap, hr: np.full(hr.size, np.inf))
    every = quality.ecg_quality(ecg, rate)
    assert len(measured) - n_fast == 5  # the five non-flat leads
    assert n_fast <= 5
    assert noise < 0.1 or not np.array_equal(every.lead, np.zeros_like(every.lead))
    if noise < 0.1:  # a clean lead 0 is ranked the best possible: nothing else measured
        assert n_fast == 1
    for name in every.__dataclass_fields__:
        a, b = getattr(fast, name), getattr(every, name)
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
        else:
            assert a == b, name
