"""Tests of medmodal.ecg.clean: filter behaviour, shapes, methods and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.ecg.clean import available_methods, detect_powerline, ecg_clean
from medmodal.errors import (
    InvalidParameterError,
    InvalidSignalError,
    MedmodalError,
    MedmodalWarning,
)

FS = 360.0


def _band_power(x: np.ndarray, fs: float, lo: float, hi: float) -> float:
    freqs, psd = scipy.signal.welch(x, fs=fs, nperseg=int(4 * fs))
    return float(psd[(freqs >= lo) & (freqs <= hi)].sum())


def _pulse_train(fs: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Narrow QRS-like Gaussian pulses at ~1.2 Hz with a little RR jitter."""
    t = np.arange(int(seconds * fs)) / fs
    beats = np.cumsum(rng.normal(0.83, 0.03, size=int(seconds / 0.6)))
    x = rng.normal(scale=1e-3, size=t.size)  # no exact zero floor (reads as clipping)
    for b in beats[beats < seconds]:
        x += np.exp(-0.5 * ((t - b) / 0.012) ** 2)
    return x


@pytest.mark.parametrize("method", available_methods())
def test_every_method_keeps_shape_and_is_finite(method: str, rng: np.random.Generator) -> None:
    x = rng.normal(size=(3000, 3))
    out = ecg_clean(x, 250, method=method)
    assert out.shape == x.shape
    assert out.dtype == np.float64
    assert np.isfinite(out).all()
    out1 = ecg_clean(x[:, 1], 250, method=method)
    assert out1.shape == (3000,)
    np.testing.assert_allclose(out1, out[:, 1], rtol=1e-9, atol=1e-12)


def test_default_removes_baseline_wander_and_powerline(rng: np.random.Generator) -> None:
    qrs = _pulse_train(FS, 30, rng)
    t = np.arange(qrs.size) / FS
    wander = 2.0 * np.sin(2 * np.pi * 0.15 * t) + 0.05 * t
    mains = 0.5 * np.sin(2 * np.pi * 50 * t)
    out = ecg_clean(qrs + wander + mains, FS)
    assert _band_power(out, FS, 0.0, 0.3) < 1e-3 * _band_power(wander, FS, 0.0, 0.3)
    assert _band_power(out, FS, 49, 51) < 1e-3 * _band_power(mains, FS, 49, 51)
    # The QRS band survives: away from the filter edges (1.5 s) the output equals the
    # cleaned pure pulses, and even at the edges the error stays below the mains amplitude.
    reference = ecg_clean(qrs, FS)
    edge = int(1.5 * FS)
    assert np.abs(out - reference)[edge:-edge].max() < 0.05 * reference.max()
    assert np.corrcoef(out, reference)[0, 1] > 0.95


def test_powerline_60_and_none(rng: np.random.Generator) -> None:
    t = np.arange(int(20 * FS)) / FS
    base = rng.normal(scale=0.1, size=t.size)
    x = base + np.sin(2 * np.pi * 60 * t)
    kept = ecg_clean(x, FS, method="minimal", powerline=None)
    notched = ecg_clean(x, FS, method="minimal", powerline=60)
    assert _band_power(notched, FS, 59, 61) < 0.01 * _band_power(kept, FS, 59, 61)
    auto = ecg_clean(x, FS, method="minimal", powerline="auto")
    np.testing.assert_allclose(auto, notched)


def test_detect_powerline_picks_the_louder_mains(rng: np.random.Generator) -> None:
    t = np.arange(int(30 * FS)) / FS
    noise = rng.normal(size=(t.size, 2))
    for f in (50.0, 60.0):
        x = noise + 0.5 * np.sin(2 * np.pi * f * t)[:, None]
        assert detect_powerline(x, FS) == f
    assert detect_powerline(noise, FS) is None  # no line stands out
    t110 = np.arange(30 * 110) / 110
    line50 = rng.normal(size=t110.size) + 0.5 * np.sin(2 * np.pi * 50 * t110)
    assert detect_powerline(line50[:, None], 110.0) == 50.0  # 60 Hz is above Nyquist
    assert detect_powerline(noise, 100.0) is None  # 50 Hz is Nyquist


def test_low_sampling_rate_clips_band_and_skips_notch(rng: np.random.Generator) -> None:
    x = rng.normal(size=1000)  # 10 s at 100 Hz: 50 Hz is Nyquist, the notch is skipped
    out = ecg_clean(x, 100, powerline=50)
    assert np.isfinite(out).all()
    out20 = ecg_clean(rng.normal(size=400), 20)  # band edge clipped to 9 Hz
    assert np.isfinite(out20).all()


def test_median_method_tracks_baseline(rng: np.random.Generator) -> None:
    qrs = _pulse_train(FS, 20, rng)
    t = np.arange(qrs.size) / FS
    out = ecg_clean(qrs + 1.5 + 0.8 * np.sin(2 * np.pi * 0.2 * t), FS, method="median")
    reference = ecg_clean(qrs, FS, method="median")
    error = np.abs(out - reference)
    assert error.max() < 0.1  # a 600 ms median lags the curvature of the wander a little
    assert np.median(error) < 0.01
    assert abs(float(np.median(out))) < 0.02


def test_none_method_returns_input_and_aliases_work(rng: np.random.Generator) -> None:
    x = rng.normal(size=2000).astype(np.float32)
    np.testing.assert_array_equal(ecg_clean(x, 500, method="raw"), x.astype(np.float64))
    np.testing.assert_array_equal(
        ecg_clean(x, 500, method="BANDPASS"), ecg_clean(x, 500, method="default")
    )


def test_int_input_and_huge_values(rng: np.random.Generator) -> None:
    x = (rng.normal(size=2000) * 1000).astype(np.int16)
    np.testing.assert_allclose(ecg_clean(x, 500), ecg_clean(x.astype(float), 500))
    big = rng.normal(size=2000) * 1e300
    out = ecg_clean(big, 500)
    np.testing.assert_allclose(out / 1e300, ecg_clean(big / 1e300, 500), rtol=1e-9, atol=1e-12)


def test_nan_gap_is_interpolated_with_warning(rng: np.random.Generator) -> None:
    x = rng.normal(size=2000)
    x[100:110] = np.nan
    with pytest.warns(MedmodalWarning, match="interpolated"):
        out = ecg_clean(x, 500)
    assert np.isfinite(out).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "butterwort"}, "(?i)did you mean"),
        ({"method": 3}, "by name"),
        ({"powerline": -50}, "powerline"),
        ({"powerline": "europe"}, "powerline"),
        ({"powerline": True}, "powerline"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict, match: str, rng: np.random.Generator) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ecg_clean(rng.normal(size=2000), 500, **kwargs)


@pytest.mark.parametrize(
    ("signal", "rate", "match"),
    [
        (np.zeros(2000), 500, "flat"),
        (np.ones(100), 500, "at least 2 s"),
        (np.ones((2, 2, 500)), 500, "3-D"),
        (np.array(["a"] * 2000), 500, "dtype"),
        (np.ones(2000), 0, "sampling_rate"),
        (np.ones(2000), 5, "too low"),
        (np.full(2000, np.nan), 500, "finite"),
    ],
)
def test_bad_signals_raise(signal: np.ndarray, rate: float, match: str) -> None:
    with pytest.raises(MedmodalError, match=match):
        ecg_clean(signal, rate)


def test_flat_lead_among_others_warns_and_stays_zero(rng: np.random.Generator) -> None:
    x = np.column_stack([rng.normal(size=2000), np.full(2000, 3.0)])
    with pytest.warns(MedmodalWarning, match="flat"):
        out = ecg_clean(x, 500)
    assert np.abs(out[:, 1]).max() < 1e-9


def test_real_record_preserves_qrs_energy(mitdb_dir) -> None:
    wfdb = pytest.importorskip("wfdb")
    record = wfdb.rdrecord(str(mitdb_dir / "100"), sampto=int(60 * FS))
    raw = record.p_signal
    out = ecg_clean(raw, FS)
    assert out.shape == raw.shape
    # Most QRS energy (5-15 Hz) is kept, baseline (<0.3 Hz) is removed.
    for lead in range(2):
        kept = _band_power(out[:, lead], FS, 5, 15) / _band_power(raw[:, lead], FS, 5, 15)
        assert 0.8 < kept < 1.05
        assert _band_power(out[:, lead], FS, 0, 0.3) < 0.05 * _band_power(raw[:, lead], FS, 0, 0.3)


signals = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int32, np.int8]),
    shape=st.one_of(
        st.tuples(st.integers(1, 1200)),
        st.tuples(st.integers(1, 1200), st.integers(1, 3)),
        st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 3)),
    ),
    elements={"allow_nan": True, "allow_infinity": True, "allow_subnormal": True},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signal=signals,
    rate=st.sampled_from([100.0, 250.0, 500.0, 7.0, -1.0]),
    method=st.sampled_from(available_methods()),
    powerline=st.sampled_from([50.0, 60.0, "auto", None]),
)
def test_property_result_or_medmodal_error(signal, rate, method, powerline) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = ecg_clean(signal, rate, method=method, powerline=powerline)
        except MedmodalError:
            return
    assert out.shape == signal.shape
    assert np.isfinite(out).all()


def test_overflow_is_reported() -> None:
    # A full-scale square wave: the band-pass overshoots (Gibbs) beyond float64's range.
    t = np.arange(2000) / 500
    x = np.where(np.sin(2 * np.pi * 5 * t) >= 0, 1.7e308, -1.7e308)
    with pytest.raises(InvalidSignalError, match="overflowed"):
        ecg_clean(x, 500)
    assert np.abs(ecg_clean(x / 1.7e308, 500)).max() > 1.0  # why it overflows
