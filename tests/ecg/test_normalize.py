"""Tests of medmodal.ecg.normalize."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.ecg.normalize import available_methods, ecg_normalize
from medmodal.errors import (
    InvalidParameterError,
    InvalidSignalError,
    MedmodalError,
    MedmodalWarning,
)


def test_zscore_per_lead(rng: np.random.Generator) -> None:
    x = rng.normal([1.0, -50.0, 3e5], [2.0, 0.1, 1e4], size=(4000, 3))
    z = ecg_normalize(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(ecg_normalize(x[:, 2]), z[:, 2])


def test_robust_ignores_outliers(rng: np.random.Generator) -> None:
    x = rng.normal(size=10_000)
    spiky = x.copy()
    spiky[::500] = 1e4  # 0.2 % huge artefacts
    r = ecg_normalize(spiky, method="robust")
    q25, q50, q75 = np.percentile(r, [25, 50, 75])
    assert abs(q50) < 1e-12
    assert q75 - q25 == pytest.approx(1.0)
    # The artefacts barely move the robust scaling, unlike the z-score.
    clean = ecg_normalize(x, method="robust")
    mask = np.ones(x.size, bool)
    mask[::500] = False
    assert np.abs(r[mask] - clean[mask]).max() < 0.02
    assert np.abs(ecg_normalize(spiky)[mask] - ecg_normalize(x)[mask]).max() > 0.5


def test_minmax_range_and_aliases(rng: np.random.Generator) -> None:
    x = rng.uniform(-3, 7, size=(100, 2))
    m = ecg_normalize(x, method="RANGE")
    np.testing.assert_allclose(m.min(axis=0), 0)
    np.testing.assert_allclose(m.max(axis=0), 1)


def test_robust_zero_iqr_falls_back_to_std_with_warning() -> None:
    x = np.zeros(100)
    x[[10, 50]] = [1.0, -1.0]  # mostly flat: IQR is 0
    with pytest.warns(MedmodalWarning, match="interquartile"):
        r = ecg_normalize(x, method="robust")
    np.testing.assert_allclose(r, x / x.std())


@pytest.mark.parametrize("method", available_methods())
def test_flat_lead_among_others_is_zero_with_warning(method: str, rng: np.random.Generator) -> None:
    x = np.column_stack([rng.normal(size=300), np.full(300, 4.2)])
    with pytest.warns(MedmodalWarning, match="flat"):
        out = ecg_normalize(x, method=method)
    np.testing.assert_array_equal(out[:, 1], 0.0)
    assert out[:, 0].std() > 0


@pytest.mark.parametrize("method", available_methods())
def test_all_flat_raises(method: str) -> None:
    with pytest.raises(InvalidSignalError, match="flat"):
        ecg_normalize(np.full((50, 2), 3.0), method=method)


@pytest.mark.parametrize("method", available_methods())
def test_huge_and_tiny_values_scale_exactly(method: str, rng: np.random.Generator) -> None:
    x = rng.normal(size=500)
    expected = ecg_normalize(x, method=method)
    for factor in (1e300, 1e-9):
        np.testing.assert_allclose(ecg_normalize(x * factor, method=method), expected, atol=1e-9)


def test_int_input_and_errors(rng: np.random.Generator) -> None:
    x = rng.integers(-1000, 1000, size=200).astype(np.int16)
    np.testing.assert_allclose(ecg_normalize(x), ecg_normalize(x.astype(float)))
    with pytest.raises(InvalidParameterError, match=r"(?i)did you mean"):
        ecg_normalize(x, method="zscor")
    with pytest.raises(InvalidSignalError, match="3-D"):
        ecg_normalize(np.ones((2, 3, 4)))
    with pytest.raises(InvalidSignalError, match="empty"):
        ecg_normalize(np.array([]))


def test_isolated_nan_interpolated_long_gap_rejected(rng: np.random.Generator) -> None:
    x = rng.normal(size=100)
    x[5] = np.nan
    with pytest.warns(MedmodalWarning, match="interpolated"):
        assert np.isfinite(ecg_normalize(x)).all()
    x[20:30] = np.nan
    with pytest.raises(InvalidSignalError, match="NaN"):
        ecg_normalize(x)


@settings(max_examples=80, deadline=None)
@given(
    signal=hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.int64, np.uint8]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=40),
        elements={"allow_nan": True, "allow_infinity": True},
    ),
    method=st.sampled_from(available_methods()),
)
def test_property_result_or_medmodal_error(signal: np.ndarray, method: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = ecg_normalize(signal, method=method)
        except MedmodalError:
            return
    assert out.shape == signal.shape
    assert np.isfinite(out).all()
    if method == "minmax":
        assert out.min() >= -1e-12
        assert out.max() <= 1 + 1e-12
