"""Regression tests for what the 10,000-case fuzz runs (tests/ecg/test_fuzz.py) found."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.ecg import ecg_rhythm
from medmodal.ecg._quality_sqi import snr_sqi
from medmodal.ecg._validate import SAMPLING_RATE_LIMITS
from medmodal.ecg.rr import ecg_rr
from medmodal.errors import InvalidParameterError


@pytest.mark.parametrize("rate", [1e-300, 0.5, 2e6, 1e300])
def test_rates_outside_the_ecg_range_are_refused(rate: float) -> None:
    """RR in seconds overflowed to inf at 1e-300 Hz; every ECG function shares the range."""
    with pytest.raises(InvalidParameterError, match="between"):
        ecg_rr(np.arange(10) * 300, rate)


def test_the_range_holds_real_rates() -> None:
    low, high = SAMPLING_RATE_LIMITS
    assert low <= 100 and high >= 20_000
    assert np.isfinite(ecg_rr(np.arange(10) * 300, 360).rr_s).all()


def test_a_window_so_long_it_overflows_is_an_error_not_an_overflow() -> None:
    """round(window * rate) raised OverflowError when the product overflowed float64."""
    with pytest.raises(InvalidParameterError, match="windows"):
        ecg_rhythm(np.arange(1, 40) * 300, 360, window=1e308)


def test_window_snr_of_a_flat_window_is_nan_not_minus_infinity() -> None:
    """A window whose beats have zero amplitude gave 20 log10(0) = -inf dB."""
    rate = 250.0
    cleaned = np.zeros(10 * int(rate))
    beats = np.arange(1, 10) * int(rate)
    starts, stops = np.array([0]), np.array([cleaned.size])
    snr = snr_sqi(cleaned, beats, rate, starts, stops)
    assert not np.isinf(snr).any()


def test_noise_on_a_signal_near_the_float_limit_is_an_error_not_inf() -> None:
    """Noise added to a signal scaled to ~1.7e308 overflowed to inf in the result."""
    from medmodal.ecg import ecg_simulate
    from medmodal.ecg.noise import ecg_add_noise
    from medmodal.errors import InvalidSignalError, MedmodalWarning

    x = ecg_simulate(5, 250, seed=0) * 1.7e308
    with pytest.warns(MedmodalWarning), pytest.raises(InvalidSignalError, match="too large"):
        ecg_add_noise(x, 250, snr_db=0.0, kind="electrode_motion", seed=0)
