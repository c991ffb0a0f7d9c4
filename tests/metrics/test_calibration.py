"""Expected calibration error and the reliability curve."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.errors import InvalidParameterError
from medmodal.metrics.calibration import expected_calibration_error, reliability_curve


def test_calibrated_predictions_have_small_ece(rng: np.random.Generator) -> None:
    p1 = rng.uniform(0, 1, 20_000)
    y = (rng.uniform(0, 1, 20_000) < p1).astype(int)  # outcomes drawn from the predictions
    assert expected_calibration_error(y, np.c_[1 - p1, p1]) < 0.02


def test_overconfident_predictions_have_large_ece(rng: np.random.Generator) -> None:
    y = rng.integers(0, 2, 1000)
    p1 = np.where(rng.uniform(size=1000) < 0.6, y, 1 - y) * 0.98 + 0.01  # 60 % right, 99 % sure
    assert expected_calibration_error(y, np.c_[1 - p1, p1]) == pytest.approx(0.39, abs=0.04)


def test_reliability_curve_frame_and_validation() -> None:
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.9, 0.1], [0.1, 0.9], [0.45, 0.55], [0.45, 0.55]])
    curve = reliability_curve(y, p, n_bins=10)
    frame = curve.to_frame()
    assert frame["count"].sum() == 4
    assert set(frame.columns) == {"bin_low", "bin_high", "confidence", "accuracy", "count"}
    assert curve.ece == pytest.approx((2 * 0.1 + 2 * 0.05) / 4)  # bins 0.9 (2/2 right), 0.55 (1/2)
    with pytest.raises(InvalidParameterError, match="n_bins"):
        reliability_curve(y, p, n_bins=0)
