from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.ecg._validate import as_signal, check_sampling_rate
from medmodal.errors import (
    InvalidParameterError,
    InvalidSignalError,
    MedmodalError,
    MedmodalWarning,
)


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf"), "360", None, True, [360]])
def test_bad_sampling_rates(rate: object) -> None:
    with pytest.raises(InvalidParameterError, match="sampling_rate"):
        check_sampling_rate(rate, func="f")


def test_good_sampling_rates() -> None:
    assert check_sampling_rate(np.int64(250), func="f") == 250.0
    assert check_sampling_rate(128.5, func="f") == 128.5


def test_one_and_two_dimensional_signals(rng: np.random.Generator) -> None:
    x = rng.normal(size=1000)
    checked = as_signal(x, 250, func="f")
    assert checked.data.shape == (1000, 1) and checked.was_1d
    assert checked.restore(checked.data).shape == (1000,)
    checked2 = as_signal(np.c_[x, x], 250, func="f")
    assert checked2.n_leads == 2 and not checked2.was_1d


def test_input_is_not_modified(rng: np.random.Generator) -> None:
    x = rng.normal(size=1000)
    x[10] = np.nan
    before = x.copy()
    with pytest.warns(MedmodalWarning):
        as_signal(x, 250, func="f")
    np.testing.assert_array_equal(x, before)


def test_int_dtypes_are_accepted() -> None:
    x = (np.arange(1000) % 50).astype(np.int16)
    assert as_signal(x, 250, func="f").data.dtype == np.float64


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.zeros((10, 10, 10)), "3-D"),
        (np.array([], dtype=float), "empty|too short|long"),
        (np.ones(1000, dtype=complex), "dtype"),
        (np.array(["a"] * 1000), "dtype"),
        (np.ones(1000, dtype=bool), "dtype"),
        (np.zeros((2, 1000)), "pass signal.T"),
        (np.ones(100), "at least 2 s"),
        (np.full(1000, 3.0), "flat"),
        (np.full(1000, np.nan), "no finite samples"),
    ],
)
def test_bad_signals(value: np.ndarray, match: str) -> None:
    with pytest.raises(InvalidSignalError, match=match):
        as_signal(value, 250, func="ecg_thing")


def test_message_names_the_function() -> None:
    with pytest.raises(InvalidSignalError, match=r"^ecg_thing:"):
        as_signal(np.ones(10), 250, func="ecg_thing")


def test_short_gap_is_interpolated_with_warning(rng: np.random.Generator) -> None:
    x = np.sin(np.linspace(0, 20, 2500)) + 0.01 * rng.normal(size=2500)
    x[100:150] = np.nan
    x[300] = np.inf
    with pytest.warns(MedmodalWarning, match="interpolated 51"):
        out = as_signal(x, 250, func="f").data[:, 0]
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[100:150], np.linspace(x[99], x[150], 52)[1:-1], atol=1e-12)


def test_long_gap_is_rejected() -> None:
    x = np.sin(np.linspace(0, 20, 2500))
    x[100:500] = np.nan
    with pytest.raises(InvalidSignalError, match="400 consecutive NaN/inf samples"):
        as_signal(x, 250, func="f")


def test_flat_lead_among_good_ones_warns(rng: np.random.Generator) -> None:
    x = np.c_[rng.normal(size=1000), np.zeros(1000)]
    with pytest.warns(MedmodalWarning, match=r"lead\(s\) \[1\] are flat"):
        checked = as_signal(x, 250, func="f")
    assert checked.flat_leads == (1,)


def test_clipping_warns(rng: np.random.Generator) -> None:
    x = np.clip(3 * rng.normal(size=5000), -2, 2)
    with pytest.warns(MedmodalWarning, match="clipped"):
        as_signal(x, 250, func="f")


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.int32]),
        shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=600),
        elements={"allow_nan": True, "allow_infinity": True},
    )
)
def test_any_array_gives_checked_signal_or_medmodal_error(x: np.ndarray) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MedmodalWarning)
            checked = as_signal(x, 100, func="f")
    except MedmodalError:
        return
    assert np.isfinite(checked.data).all()
    assert checked.data.ndim == 2


def test_gap_between_extreme_values_is_filled_without_overflow() -> None:
    """A NaN between -1.8e308 and +1.8e308: the interpolated line must stay finite."""
    big = np.finfo(np.float64).max
    x = np.tile([-big, np.nan, big], 100)
    with pytest.warns(MedmodalWarning, match="interpolated"):
        checked = as_signal(x, 100, func="f")
    assert np.isfinite(checked.data).all()
